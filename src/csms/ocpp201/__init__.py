"""The OCPP 2.0.1 protocol adapter: schemas, error codes and one handler per inbound action.

The only package that knows 2.0.1 field names; it translates payloads to domain types and
calls the services, as :mod:`csms.ocpp16` does for 1.6. Frames, dispatch and validation are
the shared OCPP-J layer's (:mod:`csms.ocppj`). Nothing here imports the ``ocpp`` library's
``ChargePoint``: the schemas are read as files, so the functions' cold start does not pay
for asyncio and jsonschema.
"""
