"""The OCPP 1.6J protocol adapter: frames, schemas, one handler per inbound action
(:mod:`~csms.ocpp16.inbound`) and one spec per outbound command (:mod:`~csms.ocpp16.outbound`).

It translates 1.6 payloads to domain types and calls the services. It is not yet the only
place that knows 1.6: the REST command bodies (``csms.api.routers.commands``) are 1.6
payloads stored as they are, and the domain and its event catalogue still carry 1.6 names
and vocabularies (see :mod:`csms.domain`). Issue 12 moves them here.
"""

from csms.ocpp16.library import preload_enums

# Before any module here imports ocpp.v16.enums: keeps the library's ChargePoint (asyncio,
# jsonschema) out of the functions' cold start. See csms.ocpp16.library.
preload_enums()
