"""What retention would remove: the rows past each policy's age, and the dry run the admin shows.

The real run (``services.retention``) blanks exactly the rows these querysets find, a batch at a time, so the dry
run's figures are what the next run removes (``tests/crm/privacy/test_retention.py`` holds the two equal).
Policies are taken shortest-age first within a target, and each one leaves out the rows an earlier one already
covers: a row is counted once, under the policy that removes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contacts.models import Customer
from crm.calls.models import Call
from crm.choices import InteractionStatus, WebhookDeliveryStatus
from crm.deadletters.models import DeadLetter
from crm.inboxes.models import InboundReceipt
from crm.interactions.models import Interaction, Message
from crm.surveys.models import SurveyResponse
from crm.webhooks.models import WebhookDelivery

from .models import RetentionPolicy, RetentionTarget
from .services import blanking

FINISHED = (InteractionStatus.RESOLVED, InteractionStatus.CLOSED, InteractionStatus.ABANDONED)
SAMPLE = 10


# How many of each kind of row, for people: one literal per kind, so the translations can find them.
NOUNS: dict[str, Callable[[int], str]] = {
    "messages": lambda n: ngettext("%(count)s message body", "%(count)s message bodies", n),
    "recordings": lambda n: ngettext("%(count)s call recording", "%(count)s call recordings", n),
    "survey_comments": lambda n: ngettext("%(count)s survey comment", "%(count)s survey comments", n),
    "dead_letters": lambda n: ngettext("%(count)s dead letter's arguments", "%(count)s dead letters' arguments", n),
    "raw_imports": lambda n: ngettext("%(count)s failed import's raw bytes", "%(count)s failed imports' raw bytes", n),
    "webhook_payloads": lambda n: ngettext("%(count)s webhook payload", "%(count)s webhook payloads", n),
}


@dataclass(frozen=True)
class Part:
    """One kind of row a policy blanks: its key in ``NOUNS``, the rows still to blank, and how to blank them."""

    noun: str
    rows: QuerySet
    blank: Callable[[QuerySet], int]
    interactions: str = ""  # the rows' path to their interaction's id, when they have one


@dataclass
class Preview:
    """What the next run would remove under one policy."""

    policy: RetentionPolicy
    counts: dict[str, int] = field(default_factory=dict)  # key of NOUNS -> rows
    interactions: int = 0
    sample_ids: list[int] = field(default_factory=list)  # interactions' ids when the rows have one, else the rows'

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        if not self.total:
            return _("nothing")
        text = ", ".join(NOUNS[noun](count) % {"count": f"{count:,}"} for noun, count in self.counts.items() if count)
        if self.interactions:
            many = ngettext("of %(count)s interaction", "of %(count)s interactions", self.interactions)
            text += " " + many % {"count": f"{self.interactions:,}"}
        return text


def _finished_before(cutoff: datetime, policy: RetentionPolicy) -> QuerySet:
    """The interactions of the policy's scope that finished before ``cutoff``, of customers not under legal hold."""
    interactions = (
        Interaction.objects.filter(status__in=FINISHED)
        # a call closed as self-served in its IVR has no close stamp: its creation is when it finished, near enough
        .alias(finished_at=Coalesce("closed_at", "resolved_at", "abandoned_at", "created_at"))
        .filter(finished_at__lt=cutoff)
        .exclude(customer__legal_hold=True)
    )
    if policy.channel:
        interactions = interactions.filter(channel=policy.channel)
    if policy.queue_id:
        interactions = interactions.filter(queue_id=policy.queue_id)
    return interactions.values("pk")


def _held_customers() -> list[int]:
    return list(Customer.objects.filter(legal_hold=True).values_list("pk", flat=True))


def _webhook_payloads(cutoff: datetime) -> QuerySet:
    deliveries = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff)
        .exclude(status=WebhookDeliveryStatus.PENDING)
        .exclude(payload__data={})
    )
    held = _held_customers()
    if held:
        # lists, not subqueries: a JSON value compares with a list of numbers, not with a column of them
        held_work = list(Interaction.objects.filter(customer_id__in=held).values_list("pk", flat=True))
        deliveries = deliveries.exclude(
            Q(payload__data__interaction__customer_id__in=held)
            | Q(payload__data__customer__id__in=held)
            | Q(payload__data__interaction__id__in=held_work)
            | Q(payload__data__message__interaction_id__in=held_work)
        )
    return deliveries


def _raw_receipts(cutoff: datetime, policy: RetentionPolicy) -> QuerySet:
    receipts = (
        InboundReceipt.objects.filter(received_at__lt=cutoff, raw__isnull=False)
        .exclude(interaction__customer__legal_hold=True)
        .exclude(message__interaction__customer__legal_hold=True)
    )
    if policy.channel:
        receipts = receipts.filter(inbox__channel=policy.channel)
    if policy.queue_id:
        receipts = receipts.filter(inbox__queue_id=policy.queue_id)
    return receipts


def retention_parts(*, policy: RetentionPolicy, now: datetime | None = None) -> list[Part]:
    """The rows ``policy`` would blank at ``now``, ignoring the other policies."""
    cutoff = (now or timezone.now()) - timedelta(days=policy.age_days)
    target = policy.target
    if target == RetentionTarget.MESSAGES:
        rows = blanking.pending_messages(Message.objects.filter(interaction_id__in=_finished_before(cutoff, policy)))
        return [Part("messages", rows, blanking.blank_messages, interactions="interaction_id")]
    if target == RetentionTarget.RECORDINGS:
        rows = blanking.pending_recordings(Call.objects.filter(interaction_id__in=_finished_before(cutoff, policy)))
        return [Part("recordings", rows, blanking.blank_recordings, interactions="interaction_id")]
    if target == RetentionTarget.SURVEY_COMMENTS:
        responses = SurveyResponse.objects.filter(survey__interaction_id__in=_finished_before(cutoff, policy))
        rows = blanking.pending_survey_comments(responses)
        return [Part("survey_comments", rows, blanking.blank_survey_comments, interactions="survey__interaction_id")]
    if target == RetentionTarget.RAW_IMPORTS:
        letters = DeadLetter.objects.filter(created_at__lt=cutoff).exclude(args=[], kwargs={})
        return [
            Part("dead_letters", letters, blanking.blank_dead_letters),
            Part("raw_imports", _raw_receipts(cutoff, policy), blanking.blank_raw_receipts),
        ]
    if target == RetentionTarget.WEBHOOK_PAYLOADS:
        return [Part("webhook_payloads", _webhook_payloads(cutoff), blanking.blank_webhook_payloads)]
    raise ValueError(f"unknown retention target {target!r}")


def retention_plan(*, now: datetime | None = None, policies=None) -> list[tuple[RetentionPolicy, list[Part]]]:
    """Every active policy with its parts, each part without the rows an earlier policy of its target covers."""
    now = now or timezone.now()
    if policies is None:
        policies = RetentionPolicy.objects.filter(is_active=True).select_related("queue")
    plan = []
    earlier: dict[tuple[str, int], list[QuerySet]] = {}
    for policy in sorted(policies, key=lambda p: (p.target, p.age_days, p.pk)):
        parts = []
        for index, part in enumerate(retention_parts(policy=policy, now=now)):
            rows = part.rows
            for covered in earlier.get((policy.target, index), []):
                rows = rows.exclude(pk__in=covered.values("pk"))
            earlier.setdefault((policy.target, index), []).append(part.rows)
            parts.append(Part(part.noun, rows, part.blank, part.interactions))
        plan.append((policy, parts))
    return plan


def retention_preview(*, now: datetime | None = None, sample: int = SAMPLE) -> list[Preview]:
    """The dry run: per active policy, how many rows of each kind the next run removes, and a few ids."""
    previews = []
    for policy, parts in retention_plan(now=now):
        preview = Preview(policy=policy)
        for part in parts:
            preview.counts[part.noun] = part.rows.count()
            if part.interactions:
                ids = part.rows.order_by().values_list(part.interactions, flat=True).distinct()
                preview.interactions += ids.count()
                preview.sample_ids += sorted(ids[:sample])
            elif preview.counts[part.noun]:
                preview.sample_ids += list(part.rows.order_by("pk").values_list("pk", flat=True)[:sample])
        preview.sample_ids = preview.sample_ids[:sample]
        previews.append(preview)
    return previews
