"""Queues and who gets queued work: the router (ACD), offers and their timeouts, overflow, routing triggers; the
queues' REST API (``api/``) and admin.

May import ``crm.interactions`` (and ``api/`` the SLA policy model: a queue names its policy); exposes
``crm.routing.hooks.queue_changed`` to the concerns above it.
"""
