"""The operator REST API adapter (Powertools REST event handler, pydantic models).

This is the only package that knows the API's shapes. Routers import the services and the
domain only: they get the services of the process from the request context
(:mod:`csms.api.context`), pass the caller's tenant scope to every call, and import neither the
PostgreSQL or AWS adapters nor the composition root.
"""

API_PREFIX = "/api/v1"
