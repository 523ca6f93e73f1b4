"""The core: interactions, their messages, event log and ownership history, the lifecycle that moves them, and
their REST API (``api/``).

Imports no other crm concern (only ``crm.choices``, agents, contacts, config): what must happen in a move's
transaction is registered by the concerns on ``crm.interactions.hooks``. The one exception is ``api/``, which
nothing imports: an interaction shows its SLA clocks, names its queue and is created under an Idempotency-Key.
"""
