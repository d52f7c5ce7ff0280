"""csms: a serverless OCPP Central System for AWS.

The package is shared by every Lambda function (``functions/*/handler.py``), the
local stack (``csms dev``) and the CDK app. Sub-packages:

From the bottom floor up (a package imports only the floors below it):

- ``domain``: the model and its ports (Protocols), one module per functional block; beneath
  it only the kernel modules (``errors``, ``clock``, ``constants``).
- ``services``: the use cases, grouped by OCPP functional block, over the domain's ports.
- ``data`` (PostgreSQL), ``aws`` (DynamoDB, @connections, SQS, EventBridge, Cognito): the
  adapters that implement the ports.
- ``ocpp16``: the OCPP 1.6J protocol adapter (frames, schemas, one handler per action).
- ``api`` (the operator REST API) and ``jobs`` (the scheduled jobs): the other edges.
- ``app``: the entry logic each Lambda function calls, and the composition root.
- ``local``: the local stack (gateway emulator, embedded PostgreSQL, moto); ``cli`` on top.
"""

__version__ = "0.1.0"
