"""The entry logic of each Lambda function: parse the event, call services, map the result.

``functions/<name>/handler.py`` adds the Powertools decorators and calls ``handle`` here;
collaborators come from :mod:`csms.app.wiring`, the composition root, unless a test passes
its own; :mod:`csms.app.containers` is what the REST routers and the scheduled jobs are given.
"""
