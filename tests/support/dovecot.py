"""Debian's dovecot as a throwaway IMAP server: its own configuration, passwd-file and maildirs under a temporary
directory, listening on free loopback ports (plain with optional STARTTLS, and imaps when a certificate is given).

Run as root (CI, this machine), the master drops to dovecot's own system users and the mail lives as ``nobody``;
run as another user, everything runs as that user. Each account has a passwd-file of its own (dovecot re-reads a
changed one at most once a second, a new one at once), so accounts are added while the server runs: one fresh
mailbox per test.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from tests.support.ports import free_ports
from tests.support.tls import Certificate

DOVECOT = Path("/usr/sbin/dovecot")
IMAP_BINARY = Path("/usr/lib/dovecot/imap")
MISSING = "dovecot not found: apt-get install dovecot-imapd (mandatory in CI)"


def available() -> bool:
    return DOVECOT.exists() and IMAP_BINARY.exists()


@dataclass(frozen=True)
class Account:
    username: str
    password: str
    port: int
    tls_port: int | None

    def url(self, folder: str = "INBOX", *, password: str | None = None, tls: str = "") -> str:
        """``imap://user:pass@127.0.0.1:port/folder``; ``tls="starttls"`` or ``"implicit"`` (imaps)."""
        secret = quote(self.password if password is None else password, safe="")
        user = quote(self.username, safe="")
        if tls == "implicit":
            return f"imaps://{user}:{secret}@127.0.0.1:{self.tls_port}/{quote(folder)}"
        query = "?starttls=1" if tls == "starttls" else ""
        return f"imap://{user}:{secret}@127.0.0.1:{self.port}/{quote(folder)}{query}"

    @contextmanager
    def client(self, folder: str = "INBOX") -> Iterator[imaplib.IMAP4]:
        """Another mail client (plain imaplib, not the code under test), logged in, folder selected."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            client.login(self.username, self.password)
            client.select(folder)
            yield client
        finally:
            try:
                client.logout()
            except (OSError, imaplib.IMAP4.error):
                pass

    def append(self, raw: bytes, folder: str = "INBOX", flags: str = "") -> int:
        """Deliver a message with IMAP APPEND; answers its UID (dovecot's APPENDUID)."""
        with self.client(folder) as client:
            typ, data = client.append(folder, f"({flags})" if flags else None, None, raw)
            assert typ == "OK", data
            # b'[APPENDUID 1700000000 3] Append completed.'
            return int(data[0].split(b"]")[0].split()[-1])


class PortTaken(RuntimeError):
    """Dovecot could not listen on a port it was given (another process bound it first)."""


class Dovecot:
    def __init__(self, certificate: Certificate | None = None, tokeninfo_url: str | None = None):
        """``tokeninfo_url``: an OAuth token-info endpoint; XOAUTH2 logins are then checked against it."""
        self.tokeninfo_url = tokeninfo_url
        self.root = Path(tempfile.mkdtemp(prefix="sb-dovecot-"))
        self.root.chmod(0o755)  # the mail user must reach its maildir below
        self.certificate = certificate
        self.port, self.tls_port = self._ports()
        self.process: subprocess.Popen | None = None
        root_user = os.geteuid() == 0
        # dovecot refuses mail access as root: as root, the mail belongs to nobody
        mail_user = pwd.getpwnam("nobody") if root_user else pwd.getpwuid(os.getuid())
        self.mail_uid, self.mail_gid = mail_user.pw_uid, mail_user.pw_gid
        current = pwd.getpwuid(os.getuid()).pw_name
        self.internal_user = _system_user("dovecot", current) if root_user else current
        self.login_user = _system_user("dovenull", current) if root_user else current

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _config(self) -> str:
        root = self.root
        ssl_lines = ["ssl = no"]
        if self.certificate:
            ssl_lines = [
                "ssl = yes",
                f"ssl_cert = <{self.certificate.cert}",
                f"ssl_key = <{self.certificate.key}",
            ]
        return "\n".join(
            [
                "instance_name = switchboard-test",
                f"base_dir = {root}/run",
                f"state_dir = {root}/state",
                "protocols = imap",
                "listen = 127.0.0.1",
                *ssl_lines,
                "disable_plaintext_auth = no",
                "auth_mechanisms = plain login" + (" xoauth2 oauthbearer" if self.tokeninfo_url else ""),
                "auth_failure_delay = 0",
                f"default_internal_user = {self.internal_user}",
                f"default_login_user = {self.login_user}",
                f"log_path = {root}/dovecot.log",
                f"info_log_path = {root}/dovecot.log",
                f"mail_location = maildir:{root}/mail/%u",
                f"first_valid_uid = {self.mail_uid}",
                f"first_valid_gid = {self.mail_gid}",
                *self._oauth_passdb(),
                "passdb {",
                "  driver = passwd-file",
                "  mechanisms = plain login",
                f"  args = scheme=PLAIN username_format=%u {root}/users/%u",
                "}",
                "userdb {",
                "  driver = passwd-file",
                f"  args = username_format=%u {root}/users/%u",
                "}",
                # No auth penalty (seconds of delay after each failed login from an address): tests fail on purpose.
                "service anvil {",
                "  unix_listener anvil-auth-penalty {",
                "    mode = 0",
                "  }",
                "}",
                "service imap-login {",
                "  inet_listener imap {",
                f"    port = {self.port}",
                "  }",
                "  inet_listener imaps {",
                f"    port = {self.tls_port or 0}",
                "  }",
                "}",
                "",
            ]
        )

    def _oauth_passdb(self) -> list[str]:
        if not self.tokeninfo_url:
            return []
        (self.root / "oauth2.conf").write_text(f"tokeninfo_url = {self.tokeninfo_url}\nusername_attribute = email\n")
        return ["passdb {", "  driver = oauth2", "  mechanisms = xoauth2 oauthbearer",
                f"  args = {self.root}/oauth2.conf", "}"]  # fmt: skip

    def _ports(self) -> tuple[int, int | None]:
        ports = free_ports(2 if self.certificate else 1)
        return ports[0], ports[1] if self.certificate else None

    def start(self, attempts: int = 3) -> None:
        """Starts dovecot; when another process took one of its ports in the meantime, again on fresh ones."""
        for name in ("run", "state", "mail", "users"):
            (self.root / name).mkdir()
        os.chown(self.root / "mail", self.mail_uid, self.mail_gid)
        for attempt in range(attempts):
            try:
                self._start_once()
                return
            except PortTaken:
                if attempt == attempts - 1:
                    raise
                self.port, self.tls_port = self._ports()

    def _start_once(self) -> None:
        (self.root / "dovecot.conf").write_text(self._config())
        self.process = subprocess.Popen(  # noqa: S603 (our binary, our config)
            [str(DOVECOT), "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if (code := self.process.poll()) is not None:
                output = self.process.stdout.read().decode(errors="replace") if self.process.stdout else ""
                if self.process.stdout:
                    self.process.stdout.close()
                self.process = None
                message = f"dovecot exited with {code}:\n{output}\n{self.log}"
                if "Address already in use" in message or "duplicate listener" in message:
                    raise PortTaken(message)
                raise RuntimeError(message)
            if _greets(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer on 127.0.0.1:{self.port} within 15 s:\n{self.log}")

    def add_account(self, username: str | None = None, password: str | None = None) -> Account:
        username = username or f"user{secrets.token_hex(4)}@example.test"
        password = password or secrets.token_urlsafe(12)
        home = self.root / "mail" / username
        passwd = self.root / "users" / username
        passwd.write_text(f"{username}:{{PLAIN}}{password}:{self.mail_uid}:{self.mail_gid}::{home}::\n")
        passwd.chmod(0o644)
        return Account(username=username, password=password, port=self.port, tls_port=self.tls_port)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self.process is not None and self.process.stdout:
            self.process.stdout.close()
        self.process = None
        shutil.rmtree(self.root, ignore_errors=True)


def _system_user(name: str, fallback: str) -> str:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return fallback
    return name


def _greets(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False
