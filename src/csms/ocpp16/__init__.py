"""The OCPP 1.6J protocol adapter: frames, schemas and one handler per inbound action.

This is the only package that knows OCPP 1.6 field names; it translates payloads to
domain types and calls the services.
"""
