"""``GET /widget/<public key>.js``: the widget script with its configuration, only for pages of allowed sites.

A ``<script>`` tag sends no ``Origin`` header, so the page's origin is taken from ``Origin`` when present, else
from ``Referer`` (browsers send at least the origin cross-site by default). Any other page gets a 403 whose body is
a script that says, in the page's console, why the chat cannot load. The socket checks ``Origin`` again.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from .visitors import inbox_by_public_key, origin_allowed

SCRIPT = Path(__file__).parent / "static" / "widget" / "widget.js"
JS = "application/javascript; charset=utf-8"


@cache
def _script() -> str:
    return SCRIPT.read_text(encoding="utf-8")


def page_origin(request: HttpRequest) -> str:
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin
    referer = urlsplit(request.headers.get("Referer", ""))
    return f"{referer.scheme}://{referer.netloc}" if referer.scheme and referer.netloc else ""


def _refused(message: str, status: int) -> HttpResponse:
    response = HttpResponse(f"console.warn({json.dumps('Switchboard chat: ' + message)});", content_type=JS)
    response.status_code = status
    return response


@require_GET
def widget_script(request: HttpRequest, public_key: str) -> HttpResponse:
    inbox = inbox_by_public_key(public_key)
    if inbox is None:
        return _refused("this chat does not exist or is switched off.", 404)
    origin = page_origin(request)
    if not origin_allowed(inbox=inbox, origin=origin):
        return _refused("this website is not allowed to use this chat (allowed_origins).", 403)
    scheme = "wss" if request.is_secure() else "ws"
    config = {
        "key": public_key,
        "socket": f"{scheme}://{request.get_host()}/ws/widget/{public_key}/",
        "prechat": (inbox.settings or {}).get("prechat", []),
    }
    body = f"(function(){{var CONFIG={json.dumps(config)};\n{_script()}\n}})();"
    response = HttpResponse(body, content_type=JS)
    response["Access-Control-Allow-Origin"] = origin
    response["Vary"] = "Origin, Referer"
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
