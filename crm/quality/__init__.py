"""Quality: scorecards and reviews of interactions (with the admin's sampling and scoring pages), canned
responses; their read-only REST API (``api/``).

May import ``crm.interactions``, ``crm.routing`` and ``crm.surveys``.
"""
