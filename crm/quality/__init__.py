"""Quality: scorecards and reviews of interactions (with the admin's sampling and scoring pages), canned responses.

May import ``crm.interactions``, ``crm.routing`` and ``crm.surveys``.
"""
