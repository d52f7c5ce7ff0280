"""The OCPP 1.6J protocol adapter: frames, schemas and one handler per inbound action.

This is the only package that knows OCPP 1.6 field names; it translates payloads to
domain types and calls the services.
"""

from csms.ocpp16.library import preload_enums

# Before any module here imports ocpp.v16.enums: keeps the library's ChargePoint (asyncio,
# jsonschema) out of the functions' cold start. See csms.ocpp16.library.
preload_enums()
