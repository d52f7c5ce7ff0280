"""csms: a serverless OCPP Central System for AWS.

The package is shared by every Lambda function (``functions/*/handler.py``), the
local stack (``csms dev``) and the CDK app. Sub-packages:

- ``domain``: the model and its ports (Protocols), one module per functional block.
- ``ocpp16``: the OCPP 1.6J protocol adapter (frames, schemas, one handler per action).
- ``services``: business logic grouped by OCPP functional block, protocol-agnostic.
- ``data``: PostgreSQL persistence (SQLAlchemy Core repositories, Alembic migrations).
- ``aws``: adapters to AWS services (DynamoDB connection store, @connections sender).
- ``app``: the entry logic each Lambda function calls.
- ``local``: the local stack (gateway emulator, embedded PostgreSQL, moto).
"""

__version__ = "0.1.0"
