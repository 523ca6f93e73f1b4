"""Bytes and header values to text without losing content: mail lies about its charsets, or names none.

Tried in turn, strictly: a byte-order mark's charset, the declared charset (through its usual superset), UTF-8,
windows-1252, and finally latin-1, which decodes any byte: text is never replaced by '�' while a charset can
still read it.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
import unicodedata

# What mail clients mean when they declare these: the superset reads every byte the subset reads, and more.
_SUPERSETS = {
    "iso-8859-1": "windows-1252",
    "latin1": "windows-1252",
    "latin-1": "windows-1252",
    "iso-8859-9": "windows-1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))  # fmt: skip


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Decode ``data``, preferring the declared ``charset``; never raises, never drops a byte that a plausible
    charset can read."""
    candidates: list[str] = []
    for prefix, bom_codec in _BOMS:
        if data.startswith(prefix):
            candidates.append(bom_codec)
            break
    declared = _codec(charset)
    if declared:
        # A superset reads the same bytes identically and more besides (iso-8859-1 mail holds windows-1252 quotes).
        superset = _codec(_SUPERSETS.get((charset or "").strip().strip("\"'").lower(), ""))
        candidates += [superset, declared] if superset else [declared]
    elif _looks_like_utf16(data):
        candidates.append("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
    candidates += ["utf-8", "windows-1252"]
    for codec in candidates:
        try:
            return _composed(data.decode(codec))
        except (UnicodeDecodeError, LookupError):
            continue
    return _composed(data.decode("latin-1"))


def _composed(text: str) -> str:
    # windows-1258 (Vietnamese) and Apple Mail write letters as base + combining marks: store them composed (NFC),
    # as typed text is, so that search and comparison find them.
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _looks_like_utf16(data: bytes) -> bool:
    # Undeclared UTF-16 without a BOM: every other byte of Latin text is NUL.
    sample = data[:200]
    return len(sample) >= 4 and sample.count(0) * 3 >= len(sample)


def unescape_surrogates(value: str) -> str:
    """Header text that the parser read as ASCII with surrogate escapes (raw 8-bit headers) decoded for real."""
    if value.isascii() or not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"))


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(=\?[^?\s]+\?[qQbB]\?[^?\s]*\?=)\s+(?==\?)")


def decode_header_value(raw: str | None) -> str:
    """A header's raw value as text: RFC 2047 encoded words decoded with any charset (unknown ones too), raw 8-bit
    bytes rescued, folding and runs of white space collapsed. Never raises."""
    if not raw:
        return ""
    value = unescape_surrogates(str(raw))
    value = _BETWEEN_WORDS.sub(r"\1", value)  # white space between two encoded words is not part of the text
    pending: list[tuple[bytes, str]] = []  # adjacent words in one charset decode together (split multibyte chars)
    out: list[str] = []
    position = 0

    def flush() -> None:
        if pending:
            out.append(decode_bytes(b"".join(chunk for chunk, _ in pending), pending[0][1]))
            pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        if match.start() > position:
            flush()
            out.append(value[position : match.start()])
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix: =?utf-8*en?Q?...?=
        chunk = _decode_word(match.group(2).lower(), match.group(3))
        if pending and pending[0][1].lower() != charset.lower():
            flush()
        pending.append((chunk, charset))
        position = match.end()
    flush()
    out.append(value[position:])
    return " ".join("".join(out).split())


def header(message: object, name: str) -> str:
    """The first value of a message's header, decoded from its raw form, or "" (also for a non-message)."""
    raw_items = getattr(message, "raw_items", None)
    if raw_items is None:
        return ""
    wanted = name.lower()
    for key, value in raw_items():
        if key.lower() == wanted:
            return decode_header_value(value)
    return ""


class Headers:
    """A message's raw header values by lower-cased name, read in one pass: the handful of lookups of one mail (its
    sender, To, Cc, Message-ID, the noise check's flags…) would each go through every header again (``header``)."""

    __slots__ = ("_values",)

    def __init__(self, message: object) -> None:
        values: dict[str, list[str]] = {}
        for key, value in getattr(message, "raw_items", tuple)():
            values.setdefault(key.lower(), []).append(value)
        self._values = values

    def __bool__(self) -> bool:
        return bool(self._values)

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._values

    def raw(self, name: str) -> list[str]:
        """Every raw value of the header, in order (none: an empty list)."""
        return self._values.get(name.lower(), [])

    def first(self, name: str) -> str:
        """The first value of the header, decoded, or "": what ``header`` answers."""
        found = self._values.get(name.lower())
        return decode_header_value(found[0]) if found else ""


def _decode_word(encoding: str, text: str) -> bytes:
    if encoding == "q":
        return quopri.decodestring(text.encode("ascii", "replace"), header=True)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return text.encode("ascii", "replace")
