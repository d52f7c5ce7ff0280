"""Business logic grouped by OCPP functional block, independent of the protocol version."""
