"""The core: interactions, their messages, event log and ownership history, and the lifecycle that moves them.

Imports no other crm concern (only ``crm.choices``, agents, contacts, config): what must happen in a move's
transaction is registered by the concerns on ``crm.interactions.hooks``.
"""
