"""Scheduled jobs, one module per job of :mod:`csms.schedules`: ``run(now) -> dict``.

Each is idempotent and safe to run twice, concurrently or late: every change it makes is a
conditional update in PostgreSQL (or DynamoDB), so a second run finds nothing left to do.
"""
