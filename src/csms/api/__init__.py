"""The operator REST API adapter (Powertools REST event handler, pydantic models).

Like ``csms.ocpp16`` for chargers, this is the only package that knows the API's shapes;
routers call services and never touch SQL or boto3.
"""

API_PREFIX = "/api/v1"
