"""The import log in the admin: what arrived, what became of it, and "run again" for a failed import once its
cause is fixed (administrators only)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from crm.inboxes.models import InboundReceipt, ReceiptStatus
from crm.inboxes.services.inbound import email_receive
from crm.inboxes.services.queued import email_accept
from crm.interactions.models import Interaction
from tests.agents.factories import TeamFactory, UserFactory
from tests.crm.factories import QueueFactory
from tests.crm.groups import default_groups
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:crm_inboundreceipt_changelist"
RAW = corpus.alternative()
MALFORMED = b"Subject: no sender at all\r\n\r\nWho wrote this?\r\n"


def _refused_by_its_queue(inbox):
    """The inbox's queue was switched to chat only: the import is refused and kept."""
    inbox.queue.channels = ["chat"]
    inbox.queue.save()
    return email_receive(inbox=inbox, raw=RAW, source="endpoint")


def _run_again(client, *receipts):
    ids = [receipt.pk for receipt in receipts]
    return client.post(reverse(CHANGELIST), {"action": "run_again", "_selected_action": ids}, follow=True)


def test_a_failed_import_runs_again_once_its_cause_is_fixed(inbox, admin_client):
    receipt = _refused_by_its_queue(inbox)
    assert receipt.status == ReceiptStatus.FAILED and "does not serve the email channel" in receipt.reason
    assert bytes(receipt.raw) == RAW
    inbox.queue.channels = ["email"]
    inbox.queue.save()

    response = _run_again(admin_client, receipt)

    assert "Imported 1, recorded as noise 0, failed again 0." in response.content.decode()
    receipt.refresh_from_db()
    interaction = Interaction.objects.get()
    assert (receipt.status, receipt.raw, receipt.reason, receipt.attempts) == (ReceiptStatus.IMPORTED, None, "", 2)
    assert receipt.interaction == interaction and interaction.inbox == inbox
    assert interaction.messages.get().body == "Hello,\n\nthe invoice is wrong."


def test_malformed_mail_run_again_stays_failed_and_keeps_its_bytes(inbox, admin_client):
    receipt = email_receive(inbox=inbox, raw=MALFORMED, source="endpoint")

    response = _run_again(admin_client, receipt)

    assert "failed again 1" in response.content.decode()
    receipt.refresh_from_db()
    assert receipt.status == ReceiptStatus.FAILED and receipt.attempts == 2 and bytes(receipt.raw) == MALFORMED
    assert "no sender address" in receipt.reason and not Interaction.objects.exists()


def test_running_an_imported_receipt_again_changes_nothing(inbox, admin_client):
    receipt = email_receive(inbox=inbox, raw=corpus.alternative(), source="endpoint")

    _run_again(admin_client, receipt)

    receipt.refresh_from_db()
    assert receipt.attempts == 1 and Interaction.objects.count() == 1


def test_the_log_filters_by_status_and_shows_why_an_import_failed(inbox, admin_client):
    email_receive(inbox=inbox, raw=corpus.alternative(), source="endpoint")
    email_receive(inbox=inbox, raw=corpus.auto_reply("Auto-Submitted", "auto-replied"), source="imap")
    failed = email_receive(inbox=inbox, raw=MALFORMED, source="endpoint")

    listed = admin_client.get(reverse(CHANGELIST), {"status__exact": "failed"})
    by_source = admin_client.get(reverse(CHANGELIST), {"source": "imap"})
    page = admin_client.get(reverse("admin:crm_inboundreceipt_change", args=[failed.pk]))

    assert [r.pk for r in listed.context["cl"].result_list] == [failed.pk]
    assert [r.status for r in by_source.context["cl"].result_list] == [ReceiptStatus.NOISE]
    html = page.content.decode()
    assert "no sender address" in html and "Who wrote this?" in html  # the reason and the kept message
    assert not page.context["has_change_permission"]


def test_a_supervisor_reads_their_team_s_receipts_and_cannot_run_them_again(client):
    default_groups()
    team, other_team = TeamFactory(name="Team Alpha"), TeamFactory(name="Team Bravo")
    supervisor = UserFactory(is_staff=True)
    supervisor.groups.add(Group.objects.get(name="Supervisor"))
    team.supervisors.add(supervisor)
    own = _refused_by_its_queue(InboxFactory(queue=QueueFactory(team=team)))
    _refused_by_its_queue(InboxFactory(queue=QueueFactory(team=other_team)))
    client.force_login(supervisor)

    response = client.get(reverse(CHANGELIST))

    assert [r.pk for r in response.context["cl"].result_list] == [own.pk]
    action_form = response.context["action_form"]  # None: no action at all is offered
    assert action_form is None or "run_again" not in dict(action_form.fields["action"].choices)
    _run_again(client, own)
    own.refresh_from_db()
    assert own.status == ReceiptStatus.FAILED and own.attempts == 1
    assert InboundReceipt.objects.filter(status=ReceiptStatus.FAILED).count() == 2


def test_queued_mail_is_listed_under_its_own_status_with_its_bytes(inbox, admin_client):
    email_receive(inbox=inbox, raw=corpus.message(message_id="<done@example.com>").as_bytes(), source="endpoint")
    waiting = email_accept(inbox=inbox, raw=RAW)

    listed = admin_client.get(reverse(CHANGELIST), {"status__exact": "queued"})
    page = admin_client.get(reverse("admin:crm_inboundreceipt_change", args=[waiting.pk]))

    assert [r.pk for r in listed.context["cl"].result_list] == [waiting.pk]
    html = page.content.decode()
    assert "Queued (stored, waiting for its import)" in html and "the invoice is wrong" in html
