"""A customer's timeline: their interactions, messages, notes and survey answers in time order; its REST API
(``api/``).

May import ``crm.interactions`` and ``crm.surveys``.
"""
