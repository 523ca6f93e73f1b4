"""The live websockets: events published after a change commits, and the snapshots the consumers send.

May import ``crm.interactions``, ``crm.routing`` and ``crm.sla``; nothing below imports it.
"""
