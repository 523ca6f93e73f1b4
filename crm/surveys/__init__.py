"""Satisfaction surveys: written on resolution (the outbox row), sent after a delay through a channel's sender,
answered once by token (``api/``: the public answer endpoint). May import ``crm.interactions`` and
``crm.webhooks``.
"""
