"""The model of a charging network and the ports (Protocols) its services depend on, one
module per functional block.

This is the lowest floor of the package: it imports nothing of ``csms`` but the kernel
(``errors``, ``clock``, ``constants``), and every other package may import it. Services speak
in these types; the PostgreSQL (``csms.data``) and AWS (``csms.aws``) adapters implement the
ports and return the types; the protocol adapter (``csms.ocpp16``) maps payloads to them.

The model is meant to be version-neutral, and is not yet: it still has OCPP 1.6's shape in
places (integer transaction ids the CSMS allocates, connectors without EVSEs, id tags as bare
strings, 1.6 status vocabularies, configuration as key/value). Issue 12 reshapes it for OCPP
2.0.1; until then, read a field's docstring before assuming it is neutral.
"""
