"""The entry logic of each Lambda function: parse the event, call services, map the result.

``functions/<name>/handler.py`` adds the Powertools decorators and calls ``handle`` here;
collaborators come from :mod:`csms.app.wiring` unless a test passes its own.
"""
