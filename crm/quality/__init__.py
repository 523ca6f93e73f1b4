"""Quality: scorecards and reviews of interactions, and canned responses; their read-only REST API (``api/``).

May import ``crm.interactions``, ``crm.routing`` and ``crm.surveys``.
"""
