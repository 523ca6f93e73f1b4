"""Service levels: business-hours calendars, SLA policies, the clock engine that keeps due times, the sweep
that records breaches and runs escalations; the REST API of policies and calendars (``api/``) and their admin.
May import ``crm.interactions``, ``crm.routing`` and ``crm.webhooks``.
"""
