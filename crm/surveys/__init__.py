"""Satisfaction surveys: written on resolution (the outbox row), sent after a delay through a channel's sender,
answered once by token on the public pages (``views``, ``urls``: ``/s/<token>/``) or the API (``api/``); their
admin. May import ``crm.interactions`` and ``crm.webhooks``.
"""
