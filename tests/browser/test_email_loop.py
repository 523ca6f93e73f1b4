"""The whole e-mail loop as people live it (issue 13): a customer's mail arrives in the support mailbox (IMAP APPEND
into a real dovecot), the import routes it to the available agent, who accepts it and answers in the console
(Chromium); a real SMTP server (aiosmtpd) receives the answer, threaded; the customer's answer to it (In-Reply-To
our Message-ID) lands on the same interaction and appears in the open console page without a reload.

No Celery worker runs here (no test of the suite starts one): Celery is eager, so the tasks the product queues
(routing after the import, the delivery of the reply after its commit) run in-process, the same task functions
a worker would run. The mailbox is read by ``crm.inboxes.tasks.email_poll_due``, the task beat runs.
"""

import os
import re
import time
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from playwright.sync_api import expect

from crm.choices import DeliveryStatus, InteractionStatus, MessageDirection
from crm.inboxes import tasks
from crm.inboxes.adapters.email import EmailAdapter
from crm.inboxes.models import InboundReceipt, ReceiptStatus
from crm.interactions.models import Interaction, Message
from tests.agents.factories import AgentFactory, TeamFactory, UserFactory
from tests.browser.pages import sign_in, wait_live
from tests.crm.factories import QueueFactory
from tests.crm.inboxes.factories import InboxFactory
from tests.support import dovecot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

SUPPORT = "support@acme.test"
CUSTOMER = "carla@customer.test"
SUBJECT = "Invoice 2041 charged twice"


@pytest.fixture(scope="module")
def dovecot_server():
    """The support mailbox's server (as tests/crm/inboxes/conftest.py starts it; mandatory in CI)."""
    if not dovecot.available():
        if os.environ.get("SWITCHBOARD_REQUIRE_MAIL") == "1":
            pytest.fail(dovecot.MISSING)
        pytest.skip(dovecot.MISSING)
    server = dovecot.Dovecot()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def center(transactional_db, eager_celery, dovecot_server, smtp_sink, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    mailbox = dovecot_server.add_account(username="support@acme.test")
    team = TeamFactory(name="Billing")
    queue = QueueFactory(name="Billing mail", team=team, channels=["email"])
    inbox = InboxFactory(
        name="Acme billing",
        queue=queue,
        settings=EmailAdapter.validate_settings(
            {
                "address": SUPPORT,
                "display_name": "Acme Billing",
                "imap_url": mailbox.url(),
                "smtp_url": smtp_sink.url(),
            }
        ),
    )
    agent = AgentFactory(user=UserFactory(username="ana"), name="Ana Agent", team=team, capacity={"email": 2})
    return {"mailbox": mailbox, "inbox": inbox, "agent": agent}


def _customer_mail(*, body: str, message_id: str, subject: str = SUBJECT, in_reply_to: str = "") -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Carla Customer <{CUSTOMER}>"
    mail["To"] = f"Acme Billing <{SUPPORT}>"
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail["Date"] = "Thu, 03 Dec 2026 09:15:00 +0000"
    if in_reply_to:
        mail["In-Reply-To"] = in_reply_to
        mail["References"] = in_reply_to
    mail.set_content(body)
    return mail.as_bytes(policy=policy.SMTP)


def _wait_for(predicate, what: str, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)
    return found


def test_a_customer_mail_is_answered_from_the_console_and_the_answer_to_it_shows_live(
    asgi_live_server, asgi_context_factory, center, smtp_sink
):
    mailbox, agent = center["mailbox"], center["agent"]

    # The agent signs in and goes available, with room for two e-mails.
    page = asgi_context_factory().new_page()
    sign_in(page, "ana")
    expect(page).to_have_url(f"{asgi_live_server}/console/")
    page.get_by_role("button", name="Available").click()
    expect(page.locator("#my-status")).to_have_text("Available")
    wait_live(page)

    # The customer writes to the support address; the mailbox is read as beat would have it read.
    first_id = make_msgid(domain="mail.customer.test")
    mailbox.append(
        _customer_mail(body="Hello,\nyou charged my card twice for invoice 2041.\nCarla", message_id=first_id)
    )
    assert tasks.email_poll_due() == 1
    work = Interaction.objects.get()
    assert (work.channel, work.subject, work.inbox_id) == ("email", SUBJECT, center["inbox"].pk)
    assert (work.status, work.agent_id) == (InteractionStatus.ASSIGNED, agent.pk)  # routed to her

    # It appears in her console without a reload; she accepts it and reads the customer's mail.
    row = page.locator(f"#work-{work.pk}")
    expect(row).to_contain_text(SUBJECT)
    expect(page.locator("#new-work")).to_contain_text(f"New work: #{work.pk} from Carla Customer")
    row.get_by_role("button", name=f"Accept #{work.pk}").click()
    expect(page).to_have_url(re.compile(rf"/console/interactions/{work.pk}/$"))
    conversation = page.get_by_role("list", name="Messages")
    expect(conversation).to_contain_text("you charged my card twice for invoice 2041")
    expect(page.locator("#reply-route")).to_have_text(f"Reply to {CUSTOMER} from {SUPPORT}")

    # She answers in the console, as a person types.
    page.get_by_label("Reply to the customer").press_sequentially("Sorry, Carla: the second charge is refunded.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Reply sent.")).to_be_visible()
    reply = Message.objects.get(interaction=work, direction=MessageDirection.OUTBOUND)

    # The SMTP server receives it, from the inbox, threaded on the customer's mail.
    received = _wait_for(lambda: list(smtp_sink.received), "the reply at the SMTP server")
    assert len(received) == 1
    assert (received[0].mail_from, received[0].rcpt_tos) == (SUPPORT, [CUSTOMER])
    sent = received[0].message
    assert sent["From"] == f"Acme Billing <{SUPPORT}>" and sent["To"] == CUSTOMER
    assert sent["Subject"] == f"Re: {SUBJECT} [#{work.pk}]"
    assert sent["In-Reply-To"] == first_id and sent["References"] == first_id
    assert sent.get_body(("plain",)).get_content().strip() == "Sorry, Carla: the second charge is refunded."
    # and the console says it went, beside the reply
    delivery = page.locator(f"#delivery-{reply.pk}")
    expect(delivery.locator(".delivery-status")).to_have_text("Sent")
    assert reply.delivery.status == DeliveryStatus.SENT

    # The customer answers the reply (In-Reply-To: our Message-ID). The page stays open: no reload from here on.
    page.evaluate("window.__stillTheSamePage = true")
    page.get_by_label("Reply to the customer").fill("draft the agent is typing")
    our_id = sent["Message-ID"]
    answer_id = make_msgid(domain="mail.customer.test")
    mailbox.append(
        _customer_mail(
            body="Thank you, I see the refund now.\n\n> Sorry, Carla: the second charge is refunded.",
            message_id=answer_id,
            subject=f"Re: {SUBJECT} [#{work.pk}]",
            in_reply_to=our_id,
        )
    )
    assert tasks.email_poll_due() == 1

    # It lands on the same interaction…
    receipt = InboundReceipt.objects.get(key=answer_id.strip("<>"))
    assert (receipt.status, receipt.interaction_id) == (ReceiptStatus.IMPORTED, work.pk)
    assert Interaction.objects.count() == 1
    assert list(work.messages.order_by("id").values_list("direction", flat=True)) == ["inbound", "outbound", "inbound"]
    # …and her open page shows it live, below her reply, with what she was typing untouched.
    last = conversation.locator("li.msg").last
    expect(last).to_contain_text("Thank you, I see the refund now.")
    expect(last).to_have_class(re.compile(r"\bmsg-inbound\b"))
    expect(conversation.locator("li.msg")).to_have_count(3)
    expect(page.get_by_text("New message from the customer.")).to_be_visible()
    assert page.evaluate("window.__stillTheSamePage") is True
    expect(page.get_by_label("Reply to the customer")).to_have_value("draft the agent is typing")
    expect(page.locator(f"#delivery-{reply.pk} .delivery-status")).to_have_text("Sent")
