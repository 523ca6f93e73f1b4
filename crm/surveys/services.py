"""Surveys: scheduled in the resolution's transaction, sent after a delay if nothing suppresses them, answered once.

The ``Survey`` row is the outbox: ``survey_schedule`` writes it while the resolution commits, the on-commit
task or the beat sweep (``survey_publish_due``) sends it when ``dispatch_after`` has passed, and
``survey_dispatch`` locks it with SKIP LOCKED, so it is sent at most once however many messages arrive.

Suppression is decided twice: what is known at resolution (queue switched off, abandoned or spam work, a
disposition or category a supervisor excluded, a contact that is itself a reply to a survey) at once; what may
change in the delay (opt-out, the frequency cap, a messaging channel's reply window) when sending.

The customer's link carries the survey's random nonce signed with ``SECRET_KEY`` and a timestamp: a forged or
altered token fails the signature, an old one expires after ``SURVEY_TOKEN_MAX_AGE_DAYS``, and the one-to-one
``SurveyResponse`` makes it single-use. Answering creates no interaction, so it can never trigger a survey.
"""

import logging
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from config.choices import Channel
from config.errors import DomainError
from config.tasks import task_named
from contacts.models import ContactIdentity, Customer
from contacts.services import identity_channel_for
from crm.choices import OPEN_STATUSES, SURVEY_SCORE_RANGE, InteractionStatus, MessageDirection, SurveyKind, SurveyStatus
from crm.interactions.models import Interaction, Message
from crm.webhooks.outbox import PUBLISH_LEASE_SECONDS, SWEEP_BATCH, outbox_lease_due
from crm.webhooks.services import webhook_emit

from .models import Survey, SurveyResponse, SurveySuppressionRule
from .senders import PermanentSendError, TransientSendError, sender_for
from .signals import survey_answered

logger = logging.getLogger(__name__)

SS = SurveyStatus
SURVEY_DISPATCH_TASK = "crm.tasks.survey_dispatch_task"
TOKEN_SALT = "crm.survey"  # noqa: S105 (a signing salt, not a secret)
MAX_COMMENT_LENGTH = 5000
# Channels where a platform only lets a business write within a window after the customer's last message.
MESSAGING_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP, Channel.SOCIAL, Channel.CHAT})


class SurveyTokenInvalid(DomainError):
    code = "survey_token_invalid"


class SurveyTokenExpired(DomainError):
    code = "survey_token_expired"


class SurveyAlreadyAnswered(DomainError):
    code = "survey_already_answered"


# --- tokens -------------------------------------------------------------------------------------------------------


def survey_token(*, survey: Survey) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(survey.token)


def survey_link(*, survey: Survey) -> str:
    path = reverse("survey-answer", kwargs={"token": survey_token(survey=survey)})
    return settings.SWITCHBOARD_PUBLIC_URL.rstrip("/") + path


def survey_from_token(*, token: str) -> Survey:
    """The survey a link's token stands for; ``SurveyTokenInvalid`` / ``SurveyTokenExpired`` otherwise."""
    signer = signing.TimestampSigner(salt=TOKEN_SALT)
    try:
        nonce = signer.unsign(token, max_age=timedelta(days=settings.SURVEY_TOKEN_MAX_AGE_DAYS))
    except signing.SignatureExpired:
        raise SurveyTokenExpired(_("This survey link has expired.")) from None
    except signing.BadSignature:
        raise SurveyTokenInvalid(_("This survey link is not valid.")) from None
    survey = Survey.objects.select_related("interaction", "response").filter(token=nonce).first()
    if survey is None or survey.status != SS.SENT:
        raise SurveyTokenInvalid(_("This survey link is not valid."))
    return survey


# --- scheduling ---------------------------------------------------------------------------------------------------


def _is_spam(interaction: Interaction) -> bool:
    labels = [interaction.disposition, interaction.category, *interaction.tags]
    return any(label.strip().lower() == "spam" for label in labels)


def _matching_rules(interaction: Interaction):
    return SurveySuppressionRule.objects.filter(is_active=True).filter(
        Q(queue__isnull=True) | Q(queue_id=interaction.queue_id), Q(channel="") | Q(channel=interaction.channel)
    )


def _reason_at_resolution(interaction: Interaction) -> str:
    if interaction.queue is not None and not interaction.queue.surveys_enabled:
        return "surveys are switched off for the queue"
    if interaction.status == InteractionStatus.ABANDONED:
        return "abandoned interaction"
    if _is_spam(interaction):
        return "spam"
    for rule in _matching_rules(interaction):
        if interaction.disposition and interaction.disposition in rule.dispositions:
            return f"disposition '{interaction.disposition}' is excluded (rule {rule.pk})"
        if interaction.category and interaction.category in rule.categories:
            return f"category '{interaction.category}' is excluded (rule {rule.pk})"
    grace_start = interaction.created_at - timedelta(hours=settings.SURVEY_REPLY_GRACE_HOURS)
    if Survey.objects.filter(
        interaction__customer_id=interaction.customer_id,
        channel=interaction.channel,
        sent_at__gte=grace_start,
        sent_at__lte=interaction.created_at,
    ).exists():
        return "the contact answers a survey sent just before"
    return ""


def survey_schedule(*, interaction: Interaction, now: datetime | None = None) -> Survey | None:
    """Write the survey for a resolution in the caller's transaction; publish its dispatch on commit.

    Idempotent by (interaction, kind): a reopened and re-resolved interaction keeps its first survey.
    A suppressed survey is recorded as such, with the reason, so a supervisor sees why none went out.
    """
    now = now or timezone.now()
    queue = interaction.queue
    kind = queue.survey_kind if queue is not None else SurveyKind.CSAT
    delay = queue.survey_delay_seconds if queue is not None and queue.survey_delay_seconds is not None else None
    delay = settings.SURVEY_DISPATCH_DELAY if delay is None else delay
    reason = _reason_at_resolution(interaction)
    dispatch_after = now + timedelta(seconds=delay)
    survey = Survey(
        interaction=interaction,
        kind=kind,
        token=secrets.token_urlsafe(24),
        channel=interaction.channel,
        status=SS.SUPPRESSED if reason else SS.PENDING,
        suppressed_reason=reason,
        dispatch_after=None if reason else dispatch_after,
        leased_until=None if reason else dispatch_after + timedelta(seconds=PUBLISH_LEASE_SECONDS),
    )
    try:
        with transaction.atomic():  # a savepoint: the resolution goes on when the survey exists already
            survey.save(force_insert=True)
    except IntegrityError:
        return None
    if reason:
        return survey
    survey_id = survey.pk
    transaction.on_commit(lambda: _publish(survey_id, countdown=delay))
    return survey


def _publish(survey_id: int, *, countdown: float = 0) -> None:
    try:
        # the sweep keeps timers longer than the broker can (config.tasks.check_countdown)
        task_named(SURVEY_DISPATCH_TASK).apply_async((survey_id,), countdown=countdown)
    except ValueError:
        logger.info(
            "surveys: survey %s is due in %ss, later than the broker keeps; the sweep sends it", survey_id, countdown
        )
    except Exception:
        logger.exception("surveys: could not publish survey %s; the sweep will", survey_id)


def survey_publish_due(*, limit: int = SWEEP_BATCH) -> int:
    """Publish pending surveys that are due and not in flight (the beat sweep). Returns how many."""
    now = timezone.now()
    return outbox_lease_due(
        due=Survey.objects.filter(status=SS.PENDING, dispatch_after__lte=now),
        order_by="dispatch_after",
        now=now,
        limit=limit,
        publish=lambda ids: [_publish(pk) for pk in ids],
    )


# --- dispatch -----------------------------------------------------------------------------------------------------


def _reason_at_dispatch(*, survey: Survey, customer: Customer, now: datetime) -> str:
    interaction = survey.interaction
    if customer.survey_opt_out:
        return "the customer opted out of surveys"
    if interaction.channel in (Channel.SMS, Channel.WHATSAPP) and _opted_out(interaction):
        return "the customer's number opted out of messages (STOP)"
    if interaction.status == InteractionStatus.ABANDONED or _is_spam(interaction):
        return "abandoned or spam interaction"
    cap_start = now - timedelta(days=settings.SURVEY_FREQUENCY_CAP_DAYS)
    if (
        settings.SURVEY_FREQUENCY_CAP_DAYS > 0
        and Survey.objects.filter(interaction__customer_id=customer.pk, sent_at__gte=cap_start)
        .exclude(pk=survey.pk)
        .exists()
    ):
        return f"frequency cap: the customer had a survey in the last {settings.SURVEY_FREQUENCY_CAP_DAYS} days"
    windows = [r.reply_window_hours for r in _matching_rules(interaction) if r.reply_window_hours]
    if windows:
        last_inbound = (
            Message.objects.filter(interaction__customer_id=customer.pk, direction=MessageDirection.INBOUND)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last_inbound is None or now - last_inbound > timedelta(hours=min(windows)):
            return f"the channel's {min(windows)}-hour reply window has closed"
    return ""


def _opted_out(interaction: Interaction) -> bool:
    """Whether the customer's address on a text channel is marked opted out (or undeliverable)."""
    try:
        kind = identity_channel_for(interaction.channel)
    except ValidationError:
        return False
    return ContactIdentity.objects.filter(
        customer_id=interaction.customer_id, channel=kind, undeliverable_at__isnull=False
    ).exists()


def _retry_delay(attempts: int) -> float:
    return settings.SURVEY_RETRY_BASE_SECONDS * 2 ** (attempts - 1)


def survey_dispatch(*, survey_id: int) -> str | None:
    """Send one pending, due survey, or record why not; returns the resulting status (None: nothing to do)."""
    retry_in: float | None = None
    with transaction.atomic():
        survey = (
            Survey.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("interaction__queue")
            .filter(pk=survey_id, status=SS.PENDING)
            .first()
        )
        if survey is None:
            return None
        now = timezone.now()
        if survey.dispatch_after and survey.dispatch_after > now + timedelta(seconds=1):
            return None  # an early message (a retry not yet due): the sweep publishes it in time
        # the customer's row lock serialises dispatches to one customer, so the frequency cap holds under concurrency
        customer = Customer.objects.select_for_update().get(pk=survey.interaction.customer_id)
        survey.interaction.customer = customer
        fields = ["status", "attempts", "last_error", "leased_until", "dispatch_after", "sent_at", "suppressed_reason"]
        survey.leased_until = None
        if survey.interaction.status in OPEN_STATUSES:
            # reopened since: ask once it is resolved again (its survey is this one, by the unique key)
            survey.dispatch_after = now + timedelta(seconds=settings.SURVEY_DISPATCH_DELAY)
            survey.save(update_fields=fields)
            return survey.status
        reason = _reason_at_dispatch(survey=survey, customer=customer, now=now)
        if reason:
            survey.status, survey.suppressed_reason = SS.SUPPRESSED, reason
            survey.save(update_fields=fields)
            return survey.status
        survey.attempts += 1
        try:
            sender_for(survey.channel or survey.interaction.channel).send(
                survey=survey, link=survey_link(survey=survey)
            )
        except PermanentSendError as exc:
            survey.status, survey.last_error = SS.FAILED, str(exc)
        except TransientSendError as exc:
            survey.last_error = str(exc)
            if survey.attempts >= settings.SURVEY_MAX_ATTEMPTS:
                survey.status = SS.FAILED
            else:
                retry_in = _retry_delay(survey.attempts)
                survey.dispatch_after = now + timedelta(seconds=retry_in)
                survey.leased_until = survey.dispatch_after + timedelta(seconds=PUBLISH_LEASE_SECONDS)
        else:
            survey.status, survey.sent_at, survey.last_error = SS.SENT, timezone.now(), ""
        survey.save(update_fields=fields)
        if retry_in is not None:
            transaction.on_commit(lambda: _publish(survey_id, countdown=retry_in))
        return survey.status


# --- answers ------------------------------------------------------------------------------------------------------


def survey_check_score(*, kind: str, score) -> int:
    low, high = SURVEY_SCORE_RANGE[kind]
    try:
        value = int(str(score).strip())
    except (TypeError, ValueError):
        raise ValidationError(
            {"score": _("Give a whole number from %(low)s to %(high)s.") % {"low": low, "high": high}}
        ) from None
    if not low <= value <= high:
        raise ValidationError({"score": _("The score must be from %(low)s to %(high)s.") % {"low": low, "high": high}})
    return value


def survey_opt_out(*, token: str) -> Customer:
    """The customer asks for no more surveys, from any survey link they received (answered or not)."""
    from contacts.services.customers import customer_update

    survey = survey_from_token(token=token)
    return customer_update(customer=survey.interaction.customer, survey_opt_out=True, consent_source="survey link")


def survey_answer(*, token: str, score, comment: str = "") -> SurveyResponse:
    """Record the customer's answer. A second answer through the same token is refused (``SurveyAlreadyAnswered``)."""
    survey = survey_from_token(token=token)
    value = survey_check_score(kind=survey.kind, score=score)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise ValidationError({"comment": _("At most %(limit)s characters.") % {"limit": MAX_COMMENT_LENGTH}})
    now = timezone.now()
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(survey=survey, score=value, comment=comment, answered_at=now)
            interaction = survey.interaction
            webhook_emit(
                type="survey.answered",
                data={
                    "survey_id": survey.pk,
                    "interaction_id": interaction.pk,
                    "customer_id": interaction.customer_id,
                    "kind": survey.kind,
                    "score": value,
                    "comment": comment,
                    "answered_at": now,
                },
                at=now,
            )
            transaction.on_commit(
                lambda: survey_answered.send(
                    sender=Survey, survey_id=survey.pk, interaction_id=interaction.pk, score=value, kind=survey.kind
                )
            )
    except IntegrityError:
        raise SurveyAlreadyAnswered(_("This survey has already been answered. Thank you!")) from None
    return response
