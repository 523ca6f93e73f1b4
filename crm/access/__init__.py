"""Integrators' access: API keys, the DRF authentication that reads them (``Authorization: Bearer <key>``,
``authentication``), ``Idempotency-Key`` records, and their admin. Imports no other crm concern."""
