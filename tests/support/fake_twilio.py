"""A local HTTP server playing Twilio: the Messages API (records each request, answers from a script: 201 by
default, or 429, 500, 400 with a Twilio error code) and media hosting (``/media/<name>`` redirects to
``/cdn/<name>``, as Twilio's media URLs redirect to its CDN). Records which paths were sent credentials."""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f" * 32


@dataclass
class Sent:
    path: str
    form: dict[str, str]
    authorization: str
    headers: dict[str, str] = field(default_factory=dict)


class FakeTwilio:
    def __init__(self):
        self.sent: list[Sent] = []
        self.answers: list[tuple[int, dict]] = []  # next answers of the Messages API, then 201s
        self.media: dict[str, tuple[bytes, str]] = {}
        self.media_requests: list[tuple[str, bool]] = []  # (path, sent credentials)
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                status, body = server._message(self.path, form, self.headers)
                self._send(status, json.dumps(body).encode(), "application/json")

            def do_GET(self):
                path = urlsplit(self.path).path
                with server._lock:
                    server.media_requests.append((path, "Authorization" in self.headers))
                name = path.rsplit("/", 1)[-1]
                if path.startswith("/media/") and name in server.media:
                    self.send_response(302)
                    self.send_header("Location", f"/cdn/{name}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif path.startswith("/cdn/") and name in server.media:
                    data, content_type = server.media[name]
                    self._send(200, data, content_type)
                else:
                    self._send(404, b"{}", "application/json")

            def _send(self, status, payload, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _message(self, path, form, headers) -> tuple[int, dict]:
        with self._lock:
            self.sent.append(Sent(path=path, form=form, authorization=headers.get("Authorization", ""),
                                  headers=dict(headers)))  # fmt: skip
            if self.answers:
                return self.answers.pop(0)
            return 201, {"sid": f"SM{next(self._numbers):032x}", "status": "queued"}

    @staticmethod
    def basic(sid: str = SID, token: str = TOKEN) -> str:
        return "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()

    def start(self) -> FakeTwilio:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
