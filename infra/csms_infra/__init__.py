"""AWS CDK app of the csms serverless OCPP central system (see ``infra/app.py``)."""
