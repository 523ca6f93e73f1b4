"""The crm side of the agents' well-being break policy: which outcomes count as bad, and the beat task.

May import ``crm.interactions``, ``crm.sla`` and ``crm.surveys`` (``agents`` cannot read crm itself).
"""
