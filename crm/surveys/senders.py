"""How a survey reaches the customer, per channel (``SURVEY_SENDERS``: channel → dotted path of a sender class).

A sender has ``send(*, survey, link)``; it raises ``TransientSendError`` for what may work on a retry (a
timeout, a 5xx) and ``PermanentSendError`` for what never will (no address). E-mail goes through Django's
mail backend; SMS and social have no provider yet, so they log, or POST to ``SURVEY_SENDER_WEBHOOK_URL``
for a bridge to pick up.
"""

import logging
from functools import cache
from typing import Protocol

import httpx
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from config.i18n import customer_language
from crm.choices import SURVEY_SCORE_RANGE

logger = logging.getLogger(__name__)


class TransientSendError(Exception):
    """Worth retrying."""


class PermanentSendError(Exception):
    """Retrying will not help; the survey is marked failed with this message."""


class SurveySender(Protocol):
    def send(self, *, survey, link: str) -> None: ...


@cache
def _sender(path: str) -> SurveySender:
    return import_string(path)()


def sender_for(channel: str) -> SurveySender:
    return _sender(settings.SURVEY_SENDERS.get(channel) or settings.SURVEY_SENDERS["default"])


def _context(survey, link: str) -> dict:
    low, high = SURVEY_SCORE_RANGE[survey.kind]
    interaction = survey.interaction
    return {
        "survey": survey,
        "interaction": interaction,
        "customer": interaction.customer,
        "link": link,
        "opt_out_link": link.rstrip("/") + "/opt-out/",
        "low": low,
        "high": high,
    }


def _render_in(customer, template: str, context: dict) -> str:
    with translation.override(customer_language(customer)):
        return render_to_string(template, context).strip()


class EmailSender:
    """A multipart e-mail (text and HTML) with the answer link, to the customer's primary address."""

    def send(self, *, survey, link: str) -> None:
        customer = survey.interaction.customer
        if not customer.email:
            raise PermanentSendError(_("The customer has no e-mail address."))
        context = _context(survey, link)
        with translation.override(customer_language(customer)):  # the customer's language, not the sender's
            message = EmailMultiAlternatives(
                subject=render_to_string("crm/survey_email_subject.txt", context).strip(),
                body=render_to_string("crm/survey_email.txt", context),
                to=[customer.email],
                headers={"Content-Language": translation.get_language()},
            )
            message.attach_alternative(render_to_string("crm/survey_email.html", context), "text/html")
        try:
            message.send()
        except (OSError, TimeoutError) as exc:  # SMTP connection trouble: try again later
            raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc


class LogSender:
    """Until a provider exists for the channel: log what would be sent (the survey counts as sent)."""

    def send(self, *, survey, link: str) -> None:
        logger.info(
            "survey %s (%s) for interaction %s over %s: %s",
            survey.pk,
            survey.kind,
            survey.interaction_id,
            survey.interaction.channel,
            link,
        )


class WebhookPostSender:
    """POST ``{survey_id, kind, channel, customer: {id, phone, email}, text, link}`` to ``SURVEY_SENDER_WEBHOOK_URL``."""

    def send(self, *, survey, link: str) -> None:
        interaction = survey.interaction
        customer = interaction.customer
        context = _context(survey, link)
        body = {
            "survey_id": survey.pk,
            "kind": survey.kind,
            "channel": interaction.channel,
            "customer": {"id": customer.pk, "phone": customer.phone, "email": customer.email},
            "language": customer_language(customer),
            "text": _render_in(customer, "crm/survey_message.txt", context),
            "link": link,
        }
        try:
            response = httpx.post(settings.SURVEY_SENDER_WEBHOOK_URL, json=body, timeout=10)
        except httpx.HTTPError as exc:
            raise TransientSendError(f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientSendError(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentSendError(f"HTTP {response.status_code}")
