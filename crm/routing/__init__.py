"""Queues and who gets queued work: the router (ACD), offers and their timeouts, overflow, routing triggers;
the queue admin.

May import ``crm.interactions``; exposes ``crm.routing.hooks.queue_changed`` to the concerns above it.
"""
