"""Integrators' webhook subscriptions, the delivery outbox (and the lease helper the survey outbox shares),
signed delivery with backoff; their admin. May import ``crm.interactions``.
"""
