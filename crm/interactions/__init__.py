"""The core: interactions, their messages, event log and ownership history, the lifecycle that moves them,
their REST API (``api/``) and their admin (where other concerns add their part of an interaction's page).

Imports no other crm concern (only ``crm.choices``, agents, contacts, config): what must happen in a move's
transaction is registered by the concerns on ``crm.interactions.hooks``. The one exception is ``api/``, which
nothing imports: an interaction shows its SLA clocks, names its queue and is created under an Idempotency-Key.
"""
