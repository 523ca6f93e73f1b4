"""Quality: scorecards and reviews of interactions, and canned responses.

May import ``crm.interactions``, ``crm.routing`` and ``crm.surveys``.
"""
