"""Tests of the local stack: embedded PostgreSQL, moto, the gateway emulator."""
