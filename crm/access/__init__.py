"""Integrators' access: API keys and ``Idempotency-Key`` records, and their admin. Imports no other crm concern."""
