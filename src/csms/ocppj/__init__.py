"""OCPP-J: the RPC framework every OCPP version shares.

Frames (CALL, CALLRESULT, CALLERROR), the table of inbound actions, schema validation and
the synchronous dispatcher live here once. A protocol adapter (:mod:`csms.ocpp16`,
:mod:`csms.ocpp201`) gives them its subprotocol, its schemas, its handlers and the spelling
of its error codes (:class:`~csms.ocppj.dispatcher.Adapter`).
"""
