"""Service levels: business-hours calendars, SLA policies, the clock engine that keeps due times, the sweep
that records breaches and runs escalations; their admin. May import ``crm.interactions``, ``crm.routing`` and
``crm.webhooks``.
"""
