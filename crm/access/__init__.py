"""Integrators' access: API keys and ``Idempotency-Key`` records. Imports no other crm concern."""
