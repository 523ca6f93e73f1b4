"""Integrators' access: API keys, the DRF authentication that reads them (``Authorization: Bearer <key>``,
``authentication``), and ``Idempotency-Key`` records. Imports no other crm concern."""
