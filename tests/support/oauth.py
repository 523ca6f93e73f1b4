"""A stand-in OAuth 2.0 provider on loopback: the token-info endpoint dovecot asks about XOAUTH2 tokens, and the
token endpoint an inbox trades its refresh token at (RFC 6749 §6).

``tokens`` maps an access token to the account it belongs to (dovecot's and the SMTP sink's view); ``grants`` maps
a refresh token to its account. ``POST /token`` with a known refresh token issues a new access token (added to
``tokens``), and with ``rotate`` on a new refresh token replacing the old one; an unknown one answers 400
``invalid_grant``. ``revoke(account)`` is what an administrator's "remove the app's access" does: every token and
grant of the account stops working. ``token_requests`` counts the refreshes; ``fail_with`` makes the next answers
an HTTP error (e.g. 503).
"""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class TokenServer:
    def __init__(self):
        self.tokens: dict[str, str] = {}
        self.grants: dict[str, str] = {}
        self.rotate = False
        self.fail_with: int | None = None
        self.token_requests: list[dict[str, str]] = []
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                token = parse_qs(urlsplit(self.path).query).get("access_token", [""])[0]
                account = server.tokens.get(token)
                self._answer(*((200, {"email": account}) if account else (401, {"error": "invalid_token"})))

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {key: values[0] for key, values in parse_qs(self.rfile.read(length).decode()).items()}
                self._answer(*server._token(form))

            def _answer(self, status, body):
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _token(self, form: dict[str, str]) -> tuple[int, dict]:
        with self._lock:
            self.token_requests.append(form)
            if self.fail_with:
                return self.fail_with, {"error": "temporarily_unavailable"}
            if form.get("grant_type") != "refresh_token":
                return 400, {"error": "unsupported_grant_type"}
            account = self.grants.get(form.get("refresh_token", ""))
            if account is None:
                return 400, {"error": "invalid_grant", "error_description": "The refresh token was revoked."}
            number = next(self._numbers)
            access = f"ya29.issued-{number}"
            self.tokens[access] = account
            answer = {"access_token": access, "token_type": "Bearer", "expires_in": 3599}
            if self.rotate:
                del self.grants[form["refresh_token"]]
                answer["refresh_token"] = f"1//rotated-{number}"
                self.grants[answer["refresh_token"]] = account
            return 200, answer

    @property
    def tokeninfo_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tokeninfo?access_token="

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def revoke(self, account: str) -> None:
        with self._lock:
            for store in (self.tokens, self.grants):
                for key in [key for key, owner in store.items() if owner == account]:
                    del store[key]

    def start(self) -> TokenServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
