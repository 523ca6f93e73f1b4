"""Real mail servers for the inbox tests: dovecot (IMAP) per test session, aiosmtpd (SMTP) per test.

Without dovecot the IMAP tests skip (without openssl the TLS tests), except when ``SWITCHBOARD_REQUIRE_MAIL=1``
(CI), where they fail.
"""

import os

import pytest

from tests.support import dovecot
from tests.support.oauth import TokenServer
from tests.support.smtp_server import SmtpSink
from tests.support.tls import self_signed


def _require_mail() -> bool:
    return os.environ.get("SWITCHBOARD_REQUIRE_MAIL") == "1"


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (None without openssl: the TLS tests skip, except in CI)."""
    made = self_signed(tmp_path_factory.mktemp("tls"))
    if made is None and _require_mail():
        pytest.fail("openssl not found: apt-get install openssl (the mail TLS tests are mandatory in CI)")
    return made


@pytest.fixture(scope="session")
def token_server():
    """The OAuth token-info endpoint dovecot asks about XOAUTH2 tokens: ``token_server.tokens[token] = user``."""
    server = TokenServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dovecot_server(certificate, token_server):
    if not dovecot.available():
        if _require_mail():
            pytest.fail(dovecot.MISSING)
        pytest.skip(dovecot.MISSING)
    server = dovecot.Dovecot(certificate, tokeninfo_url=token_server.tokeninfo_url)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imap_account(dovecot_server):
    """A fresh, empty mailbox on the session's dovecot."""
    return dovecot_server.add_account()


@pytest.fixture
def smtp_sink_factory():
    """SmtpSink with options (credentials, TLS contexts); each one stopped after the test."""
    sinks = []

    def make(**options):
        sink = SmtpSink(**options).start()
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        sink.stop()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Attachments are stored under the test's own directory, never in the checkout."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT
