"""A stand-in OAuth 2.0 token-info endpoint on loopback, for dovecot's oauth2 passdb (XOAUTH2 logins).

``tokens`` maps an access token to the account it belongs to; removing one revokes it.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class TokenServer:
    def __init__(self):
        self.tokens: dict[str, str] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                token = parse_qs(urlsplit(self.path).query).get("access_token", [""])[0]
                account = server.tokens.get(token)
                status, body = (200, {"email": account}) if account else (401, {"error": "invalid_token"})
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

    @property
    def tokeninfo_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tokeninfo?access_token="

    def start(self) -> TokenServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
