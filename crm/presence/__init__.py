"""Presence follows the console: an agent whose console is gone stops being offered work.

The sockets' bookkeeping lives in ``crm.live.presence`` (Redis, shared by every web server); this concern is
the sweep that acts on it (``services.presence_sweep``, run by beat every few seconds).
"""
