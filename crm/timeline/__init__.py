"""A customer's timeline: their interactions, messages, notes and survey answers in time order.

May import ``crm.interactions`` and ``crm.surveys``.
"""
