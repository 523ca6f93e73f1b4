"""The REST API of webhook subscriptions (``/api/v1/webhooks/``)."""
