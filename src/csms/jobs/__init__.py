"""Scheduled jobs, one module per job of :mod:`csms.schedules`: ``run(services, now) -> dict``,
where ``services`` is the :class:`csms.jobs.context.JobServices` the scheduled function hands
it. A job calls its service, records its metrics and reports what was done; the rules are the
services'.

Each is idempotent and safe to run twice, concurrently or late: every change it makes is a
conditional update in PostgreSQL (or DynamoDB), so a second run finds nothing left to do.
"""
