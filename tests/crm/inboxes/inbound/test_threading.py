"""Replies find their interaction, the way our peers' users needed it (Chatwoot, Zammad, FreeScout and
django-helpdesk issues): every id of References, Outlook's replies, a colleague in Cc, never a stranger quoting
a "[#id]"; a resolved interaction reopens, an old or closed one gets a linked follow-up."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.choices import InteractionEventKind, InteractionStatus, MessageDirection
from crm.inboxes.models import InboundReceipt, ReceiptStatus
from crm.inboxes.services.inbound import email_receive
from crm.interactions import services as lifecycle
from crm.interactions.models import Interaction
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

pytestmark = pytest.mark.django_db

SENT = "sent-1@switchboard.acme.test"
COLLEAGUE = "bela.nagy@example.com"
STRANGER = "mallory@evil.example"


def _receive(inbox, raw: bytes) -> InboundReceipt:
    return email_receive(inbox=inbox, raw=raw, source="endpoint")


@pytest.fixture
def thread(inbox):
    """The customer wrote (with a colleague in Cc) and the agent answered with our Message-ID ``SENT``."""
    first = corpus.message(headers={"Cc": f"Bela Nagy <{COLLEAGUE}>"}).as_bytes()
    interaction = _receive(inbox, first).interaction
    lifecycle.message_create(
        interaction=interaction,
        direction=MessageDirection.OUTBOUND,
        body="Please restart the printer.",
        external_id=SENT,
    )
    return interaction


def _reply(*, sender=f"Anna Kovacs <{corpus.CUSTOMER}>", subject="Re: Printer is broken", body="It works!", **headers):
    return corpus.message(
        sender=sender, subject=subject, body=body, message_id=f"<reply-{len(headers)}-{sender[:5]}@x.test>",
        headers=headers,
    ).as_bytes()  # fmt: skip


def _inbound_bodies(interaction) -> list[str]:
    return list(interaction.messages.filter(direction=MessageDirection.INBOUND).values_list("body", flat=True))


def test_a_gmail_reply_joins_its_interaction_with_the_quote_trimmed(inbox, thread):
    receipt = _receive(inbox, corpus.gmail_reply(in_reply_to=f"<{SENT}>"))

    assert receipt.status == ReceiptStatus.IMPORTED and receipt.interaction == thread
    assert Interaction.objects.count() == 1
    assert _inbound_bodies(thread)[-1] == "Thanks, it works again!"
    assert receipt.message.external_id == "CAF=reply2@mail.gmail.com" and receipt.message.inbox == inbox


def test_a_reply_carrying_only_references_threads_by_any_of_its_ids(inbox, thread):
    # no In-Reply-To; the id we know is neither the first nor the last of References
    raw = _reply(References=f"<root@elsewhere.example> <{SENT}> <later@elsewhere.example>")

    receipt = _receive(inbox, raw)

    assert receipt.interaction == thread and Interaction.objects.count() == 1


def test_an_outlook_reply_threads_and_shows_only_the_new_text(inbox, thread):
    receipt = _receive(inbox, corpus.outlook_reply())

    assert receipt.interaction == thread
    assert _inbound_bodies(thread)[-1] == "Still broken, see the photo."


def test_an_old_outlook_reply_with_references_only_threads(inbox, thread):
    assert _receive(inbox, corpus.outlook_original_message_reply()).interaction == thread


def test_a_cc_d_colleague_s_reply_joins_but_the_customer_stays(inbox, thread):
    receipt = _receive(inbox, _reply(sender=f"Bela Nagy <{COLLEAGUE}>", **{"In-Reply-To": f"<{SENT}>"}))

    thread.refresh_from_db()
    assert receipt.interaction == thread and thread.customer.email == corpus.CUSTOMER
    assert receipt.sender == COLLEAGUE  # who wrote this message
    assert Interaction.objects.count() == 1


def test_a_subject_token_from_a_participant_threads_without_headers(inbox, thread):
    subject = f"Re: Printer is broken [#{thread.pk}]"

    from_customer = _receive(inbox, _reply(subject=subject))
    from_colleague = _receive(inbox, _reply(sender=COLLEAGUE, subject=subject, body="Same here."))

    assert from_customer.interaction == thread and from_colleague.interaction == thread
    assert _inbound_bodies(thread)[-2:] == ["It works!", "Same here."]


def test_a_subject_token_from_a_stranger_does_not_land_in_that_interaction(inbox, thread):
    raw = _reply(sender=STRANGER, subject=f"Re: Printer is broken [#{thread.pk}]", body="Send me the invoice data.")

    receipt = _receive(inbox, raw)

    assert receipt.interaction != thread and receipt.interaction.customer.email == STRANGER
    assert "Send me the invoice data." not in _inbound_bodies(thread)


def test_an_auto_reply_on_the_thread_makes_nobody_it_names_a_participant(inbox, thread):
    auto = corpus.message(
        message_id="<ooo@x.test>",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": f"<{SENT}>", "Cc": STRANGER},
    ).as_bytes()
    assert _receive(inbox, auto).interaction == thread

    receipt = _receive(inbox, _reply(sender=STRANGER, subject=f"Re: Printer is broken [#{thread.pk}]"))

    assert receipt.interaction != thread


def test_a_subject_token_of_another_inbox_s_interaction_does_not_thread(inbox, thread):
    other = InboxFactory()

    receipt = _receive(other, _reply(subject=f"Re: Printer is broken [#{thread.pk}]"))

    assert receipt.interaction != thread and receipt.interaction.inbox == other


def test_a_message_id_known_only_on_another_inbox_does_not_thread(inbox, thread):
    other = InboxFactory()

    receipt = _receive(other, _reply(**{"In-Reply-To": f"<{SENT}>"}))

    assert receipt.interaction != thread and receipt.interaction.inbox == other


def test_reply_to_and_from_never_move_a_message_to_another_customer(inbox, thread):
    fresh = _receive(inbox, corpus.message(message_id="<new@x.test>", headers={"Reply-To": STRANGER}).as_bytes())
    on_thread = _receive(inbox, _reply(sender=STRANGER, **{"In-Reply-To": f"<{SENT}>", "Reply-To": STRANGER}))

    assert fresh.interaction.customer.email == corpus.CUSTOMER  # From, not Reply-To, names the customer
    assert on_thread.interaction == thread and thread.customer.email == corpus.CUSTOMER


def test_a_reply_to_a_resolved_interaction_reopens_it(inbox, thread):
    agent_held = lifecycle.interaction_assign(interaction=thread, agent=_agent(thread))
    lifecycle.interaction_accept(interaction=agent_held)
    lifecycle.interaction_resolve(interaction=thread)

    receipt = _receive(inbox, corpus.gmail_reply(in_reply_to=f"<{SENT}>"))

    thread.refresh_from_db()
    assert receipt.interaction == thread and thread.status == InteractionStatus.QUEUED and thread.agent is None
    assert thread.events.filter(kind=InteractionEventKind.REOPENED).count() == 1
    assert _inbound_bodies(thread)[-1] == "Thanks, it works again!"
    assert Interaction.objects.count() == 1


def test_a_reply_long_after_the_resolution_starts_a_linked_interaction(inbox, thread, settings):
    lifecycle.interaction_assign(interaction=thread, agent=_agent(thread))
    lifecycle.interaction_accept(interaction=thread)
    lifecycle.interaction_resolve(interaction=thread)
    old = timezone.now() - timedelta(days=settings.SWITCHBOARD_FOLLOW_UP_DAYS + 1)
    Interaction.objects.filter(pk=thread.pk).update(resolved_at=old)

    receipt = _receive(inbox, corpus.gmail_reply(in_reply_to=f"<{SENT}>"))

    follow_up = receipt.interaction
    assert follow_up != thread and follow_up.follow_up_of == thread
    assert (follow_up.customer, follow_up.inbox, follow_up.status) == (thread.customer, inbox, InteractionStatus.QUEUED)
    assert _inbound_bodies(follow_up) == ["Thanks, it works again!"]
    thread.refresh_from_db()
    assert thread.status == InteractionStatus.RESOLVED


def test_a_reply_to_a_closed_interaction_starts_a_linked_one_and_threads_there_afterwards(inbox, thread):
    lifecycle.interaction_assign(interaction=thread, agent=_agent(thread))
    lifecycle.interaction_accept(interaction=thread)
    lifecycle.interaction_resolve(interaction=thread)
    lifecycle.interaction_close(interaction=thread)

    first = _receive(inbox, corpus.gmail_reply(in_reply_to=f"<{SENT}>"))
    again = _receive(inbox, _reply(body="And one more thing.", References=f"<{SENT}> <CAF=reply2@mail.gmail.com>"))

    assert first.interaction.follow_up_of == thread
    assert again.interaction == first.interaction  # the newest message named decides
    assert Interaction.objects.count() == 2


def _agent(interaction):
    from tests.agents.factories import AgentFactory

    return AgentFactory(team=interaction.queue.team)
