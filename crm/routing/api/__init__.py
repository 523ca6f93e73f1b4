"""The REST API of queues (``/api/v1/queues/``), and the CRUD shape the set-up resources share (``setup``).

A queue names its SLA policy, so the serializers read ``crm.sla.models``; nothing imports this package but
``crm.sla.api`` (the shared shape).
"""
