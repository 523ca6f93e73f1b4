"""URLs the product calls out to (webhooks): which addresses are inside our network, and how a URL is logged.

``address_is_private`` is the request-forgery guard's test of one resolved address. An IPv6 address can carry
an IPv4 one, and a host inside our network is as reachable through it as through the IPv4 address itself
(a NAT64 gateway, a 6to4 relay or the kernel's own mapping translate it): ``::ffff:10.0.0.1``,
``64:ff9b::a00:1``, ``2002:a00:1::1``, Teredo ``2001:0:…`` and the old IPv4-compatible ``::10.0.0.1`` all reach
10.0.0.1. So the embedded IPv4 address is checked too, and the address is refused when either is private,
loopback, link-local, shared (CGNAT), reserved or multicast. The local-use NAT64 prefix ``64:ff9b:1::/48``
(RFC 8215) exists only inside some operator's network, wherever the IPv4 address sits in it: it is refused
whole.

``read_at_most`` reads a receiver's answer only as far as we care to keep it.

``redact_url`` is how a URL appears in logs, e-mails and error texts: without its ``user:password@`` and with
every query value replaced, since integrators put tokens there.
"""

import ipaddress
import logging
import re
from urllib.parse import urlsplit, urlunsplit

NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the last 32 bits
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")  # deprecated (RFC 4291), still routed by some stacks
IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")  # SIIT (RFC 2765)
REDACTED = "REDACTED"


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address stands for (mapped, NAT64, 6to4, Teredo, compatible, translated)."""
    found: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client): either one is an address the packet goes to
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in NAT64_WELL_KNOWN or ip in IPV4_TRANSLATED or ip in IPV4_COMPATIBLE:
        found.append(low32)
    return found


def address_is_private(address: str) -> bool:
    """Is ``address`` (an IP literal, IPv6 zone allowed) one a webhook may not be sent to? See the module doc."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL_USE:
            return True
        candidates += embedded_ipv4(ip)
    return any(not candidate.is_global or candidate.is_multicast for candidate in candidates)


def url_has_userinfo(url: str) -> bool:
    """Does ``url`` carry a ``user[:password]@`` part?"""
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return False


def redact_url(url: str) -> str:
    """``url`` fit for a log line: no user or password, every query value replaced, no fragment."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rsplit('@', 1)[1]}"
    # "a=1&b=2" keeps its names; a part without "=" ("?s3cret") may itself be the secret
    query = "&".join(
        f"{part.split('=', 1)[0]}={REDACTED}" if "=" in part else REDACTED for part in parts.query.split("&") if part
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def read_at_most(response, limit: int) -> bytes:
    """Up to ``limit`` bytes of a streamed httpx response's body as sent (not decompressed: a small gzip can unpack
    to gigabytes). The rest is never downloaded: leaving the ``stream()`` block closes the connection."""
    chunks, size = [], 0
    for chunk in response.iter_raw():
        chunks.append(chunk[: limit - size])
        size += len(chunks[-1])
        if size >= limit:
            break
    return b"".join(chunks)


# Something that looks like a URL inside a free-text log message.
_URL_IN_TEXT = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")


def redact_urls_in(text: str) -> str:
    """``text`` with every URL in it redacted (for log messages written by code we do not own)."""
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)


# Path segments that are secrets: an inbox's token (``/inbound/<kind>/<token>/…``: whoever has it can post as the
# inbox's provider) and a survey link's (``/s/<token>/``, ``/api/v1/surveys/<token>/responses``: it answers as the
# customer). Django's own "Not Found: /inbound/email/…" and our access line both carry the path.
_SECRET_IN_PATH = re.compile(r"(/inbound/[a-z]+/|/s/|/api/v1/surveys/)[^/\s\"'?<>]+")


def redact_path_secrets(text: str) -> str:
    """``text`` with the secret segment of every inbox or survey path in it replaced."""
    return _SECRET_IN_PATH.sub(rf"\g<1>{REDACTED}", text)


class RedactUrlsFilter(logging.Filter):
    """A logging filter that redacts the URLs in a record's message and the secrets in its paths (settings: the
    console handler, httpx)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_path_secrets(redact_urls_in(message))
        if redacted != message:
            record.msg, record.args = redacted, None
        if isinstance(getattr(record, "path", None), str):  # the access line's own field
            record.path = redact_path_secrets(record.path)
        return True
