"""The live websockets: events published after a change commits, the consumers (``/ws/console/``, ``/ws/wallboard/``)
with their per-user socket limit, and the snapshots they send.

May import ``crm.interactions``, ``crm.routing`` and ``crm.sla``; nothing below imports it.
"""
