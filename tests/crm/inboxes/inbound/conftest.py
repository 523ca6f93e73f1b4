"""Fixtures of the inbound e-mail tests: an inbox at the corpus's support address, files in a temporary storage."""

import pytest
from django.urls import reverse

from crm.inboxes.adapters.email import EmailAdapter
from tests.crm.inboxes.email import corpus
from tests.crm.inboxes.factories import InboxFactory

OWN_DOMAIN = "switchboard.acme.test"  # the domain of the corpus's "sent-…" Message-IDs: ours


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Attachments land in a directory of the test's own (Django's storage API, the file system backend)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def inbox(db):
    return InboxFactory(
        name="Acme support",
        settings=EmailAdapter.validate_settings({"address": corpus.SUPPORT, "message_id_domain": OWN_DOMAIN}),
    )


@pytest.fixture
def post_mail(client):
    """POST raw bytes to an inbox's inbound URL, as an MTA does."""

    def post(inbox, raw: bytes, content_type="message/rfc822", **extra):
        url = reverse("inboxes:email-inbound", args=[inbox.token])
        return client.generic("POST", url, raw, content_type=content_type, **extra)

    return post
