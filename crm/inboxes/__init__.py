"""Inboxes and channel adapters: how a conversation reaches the customer on their channel and comes back.

An inbox is one connected address, number, site or line. Each channel has an adapter (``adapters/<channel>/``)
with two halves behind one small interface (``adapters.base.Adapter``): inbound (parse what arrives into a
channel-neutral ``ParsedInbound``) and outbound (send one message, answer the provider's id or a clear temporary
or permanent failure). This concern depends on ``crm.interactions`` (the core) only; the adapters themselves
import no model at all, so they are tested against real servers without a database.
"""
