"""The widget's own texts (``static/widget/widget.js``), translated into the visitor's language.

The script renders with its built-in English and replaces these from the ``welcome`` frame's ``texts``; one dict,
built here. ``{email}`` and ``{score}`` are filled in by the script. The visitor's language: the
``hello`` frame's ``language`` (``navigator.language``), else the socket handshake's ``Accept-Language``, reduced to
one the installation speaks (``de-AT`` -> ``de``), else the default (English).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation.trans_real import parse_accept_lang_header

TEXTS = {
    "title": _("Chat with us"),
    "dialog": _("Chat"),
    "open": _("Open chat"),
    "typing": _("Agent is typing…"),
    "name": _("Your name"),
    "email": _("Your e-mail"),
    "start": _("Start chat"),
    "followup_email": _("Your e-mail for our answer"),
    "followup": _("Continue by e-mail"),
    "transcript_email": _("E-mail for the transcript"),
    "transcript": _("Send transcript"),
    "message": _("Write a message…"),
    "send": _("Send"),
    "fill_name": _("Please fill in your name."),
    "fill_email": _("Please fill in your e-mail."),
    "transcript_sent": _("The transcript is on its way to {email}."),
    "followed_up": _("Thank you: we will answer you by e-mail at {email}."),
    "offline": _("Nobody is available right now."),
    "offline_email": _("Leave your e-mail and we will answer there."),
    "resolved": _("This conversation is resolved. Write again to reopen it."),
    "rate_question": _("How did we do?"),
    "rate": _("Rate {score}"),
    "unavailable": _("Chat unavailable on this website."),
}


def widget_texts(language: str) -> dict[str, str]:
    with translation.override(language):
        return {key: str(text) for key, text in TEXTS.items()}


def _supported(code: object) -> str | None:
    if not isinstance(code, str) or not code.strip():
        return None
    try:
        return translation.get_supported_language_variant(code.strip()[:35].replace("_", "-").lower())
    except LookupError:
        return None


def accept_language(scope) -> str:
    """The handshake's ``Accept-Language`` header (empty when none)."""
    for name, value in scope.get("headers", []):
        if name == b"accept-language":
            return value.decode("latin-1")[:500]
    return ""


def visitor_language(*, asked: object = None, accept: str = "") -> str:
    """The first of the visitor's languages this installation speaks; the default when none."""
    candidates: Iterable[object] = [asked, *(code for code, _q in parse_accept_lang_header(accept))]
    for code in candidates:
        language = _supported(code)
        if language:
            return language
    return settings.LANGUAGE_CODE
