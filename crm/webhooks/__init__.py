"""Integrators' webhook subscriptions, the delivery outbox (and the lease helper the survey outbox shares),
signed delivery with backoff; the subscriptions' REST API (``api/``) and admin. May import ``crm.interactions``.
"""
