"""The agent console's reads (its views, forms and urls join it in phase 2 of issue 12).

May import ``crm.interactions``, ``crm.routing`` and ``crm.timeline``.
"""
