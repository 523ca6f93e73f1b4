"""The core: interactions, their messages, event log and ownership history, the lifecycle that moves them, and
their admin (where other concerns add their part of an interaction's page).

Imports no other crm concern (only ``crm.choices``, agents, contacts, config): what must happen in a move's
transaction is registered by the concerns on ``crm.interactions.hooks``.
"""
