"""The REST API of interactions and their messages (``/api/v1/interactions/``): create, read, patch, the lifecycle
actions. The one part of the core that reads other concerns: an interaction shows its SLA clocks (``crm.sla``),
names its queue (``crm.routing``) and is created under an ``Idempotency-Key`` (``crm.access``); nothing imports it.
"""
