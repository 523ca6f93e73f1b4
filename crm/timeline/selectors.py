"""A customer's timeline: their interactions, messages, notes and survey answers, newest first.

Read in ONE query however long the page: a UNION ALL of four narrow ``values()`` querysets with
the same columns. Each branch is already cut at the cursor and limited, so PostgreSQL reads at
most ``limit`` rows per kind (by the per-customer time indexes), then merges and limits again.
Entries are ordered by ``(at, kind, id)`` descending; that triple is the cursor.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.db.models import BigIntegerField, F, IntegerField, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast, Left

from agents.access import Viewer
from contacts.models import Customer, Note
from crm.interactions.models import Interaction, Message
from crm.interactions.selectors import interaction_visibility_q
from crm.surveys.models import SurveyResponse

BODY_PREVIEW_CHARS = 500


class TimelineKind(models.TextChoices):
    # The values order the entries that share a timestamp; they sort the same under any collation.
    INTERACTION = "interaction", "Interaction"
    MESSAGE = "message", "Message"
    NOTE = "note", "Note"
    SURVEY_RESPONSE = "survey_response", "Survey answer"


@dataclass(frozen=True)
class TimelineCursor:
    """A position in the timeline: entries strictly older than ``(at, kind, id)`` come after it."""

    at: datetime
    kind: str
    id: int

    def encode(self) -> str:
        raw = json.dumps({"at": self.at.isoformat(), "kind": self.kind, "id": self.id}, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "TimelineCursor":
        """Parse a cursor made by ``encode``; ``ValueError`` for anything else."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
            at = datetime.fromisoformat(data["at"])
            kind, pk = data["kind"], data["id"]
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError) as exc:
            raise ValueError("Malformed cursor.") from exc
        if at.tzinfo is None or kind not in TimelineKind.values or type(pk) is not int or not 0 < pk < 2**63:
            raise ValueError("Malformed cursor.")
        return cls(at=at, kind=kind, id=pk)


@dataclass(frozen=True)
class TimelineEntry:
    kind: str
    id: int
    at: datetime
    interaction_id: int | None
    title: str
    body: str
    score: int | None
    channel: str
    status: str
    direction: str

    @property
    def cursor(self) -> TimelineCursor:
        return TimelineCursor(at=self.at, kind=self.kind, id=self.id)


def _text(value: str) -> Value:
    return Value(value, output_field=TextField())


_NULL_INT = Cast(Value(None), output_field=IntegerField())
_NULL_ID = Cast(Value(None), output_field=BigIntegerField())


def _columns(*, kind, at, interaction_id, title, body, score, channel, status, direction) -> dict:
    """One branch's select list; every branch names the same columns in the same order."""
    return {
        "entry_kind": _text(kind),
        "entry_id": Cast(F("pk"), output_field=BigIntegerField()),
        "entry_at": F(at),
        "entry_interaction": interaction_id,
        "entry_title": Cast(title, output_field=TextField()),
        "entry_body": Cast(body, output_field=TextField()),
        "entry_score": score,
        "entry_channel": Cast(channel, output_field=TextField()),
        "entry_status": Cast(status, output_field=TextField()),
        "entry_direction": Cast(direction, output_field=TextField()),
    }


def _after_cursor(before: TimelineCursor | None, *, kind: str, at_field: str) -> Q:
    """Rows of one kind that sort after the cursor in (at, kind, id) descending order."""
    if before is None:
        return Q()
    older = Q(**{f"{at_field}__lt": before.at})
    if kind < before.kind:
        return older | Q(**{at_field: before.at})
    if kind == before.kind:
        return older | Q(**{at_field: before.at, "pk__lt": before.id})
    return older


def _branch(queryset: QuerySet, *, kind: str, at_field: str, before, limit: int, **columns) -> QuerySet:
    return (
        queryset.filter(_after_cursor(before, kind=kind, at_field=at_field))
        .order_by(f"-{at_field}", "-pk")
        .values(**_columns(kind=kind, at=at_field, **columns))[:limit]
    )


def customer_timeline(
    *, customer: Customer, viewer: Viewer, before: TimelineCursor | None = None, limit: int = 50
) -> list[TimelineEntry]:
    """Up to ``limit`` timeline entries of the customer older than ``before``, newest first.

    Interactions the viewer may not see are left out, and so are their messages and survey answers.
    Messages of every direction are included (internal notes too), marked by ``direction``.
    Notes belong to the customer directory, which every authenticated caller may read.
    """
    visible = Interaction.objects.filter(customer=customer).filter(interaction_visibility_q(viewer))
    visible_ids = visible.values("pk")
    empty = _text("")

    interactions = _branch(
        visible,
        kind=TimelineKind.INTERACTION,
        at_field="created_at",
        before=before,
        limit=limit,
        interaction_id=Cast(F("pk"), output_field=BigIntegerField()),
        title=F("subject"),
        body=empty,
        score=_NULL_INT,
        channel=F("channel"),
        status=F("status"),
        direction=F("direction"),
    )
    messages = _branch(
        Message.objects.filter(interaction__in=visible_ids),
        kind=TimelineKind.MESSAGE,
        at_field="created_at",
        before=before,
        limit=limit,
        interaction_id=F("interaction_id"),
        title=F("interaction__subject"),
        body=Left("body", BODY_PREVIEW_CHARS),
        score=_NULL_INT,
        channel=F("interaction__channel"),
        status=empty,
        direction=F("direction"),
    )
    notes = _branch(
        Note.objects.filter(customer=customer),
        kind=TimelineKind.NOTE,
        at_field="created_at",
        before=before,
        limit=limit,
        interaction_id=_NULL_ID,
        title=empty,
        body=Left("body", BODY_PREVIEW_CHARS),
        score=_NULL_INT,
        channel=empty,
        status=empty,
        direction=empty,
    )
    answers = _branch(
        SurveyResponse.objects.filter(survey__interaction__in=visible_ids),
        kind=TimelineKind.SURVEY_RESPONSE,
        at_field="answered_at",
        before=before,
        limit=limit,
        interaction_id=F("survey__interaction_id"),
        title=F("survey__kind"),
        body=Left("comment", BODY_PREVIEW_CHARS),
        score=Cast(F("score"), output_field=IntegerField()),
        channel=F("survey__interaction__channel"),
        status=empty,
        direction=empty,
    )
    rows = interactions.union(messages, notes, answers, all=True).order_by("-entry_at", "-entry_kind", "-entry_id")[
        :limit
    ]
    return [
        TimelineEntry(
            kind=row["entry_kind"],
            id=row["entry_id"],
            at=row["entry_at"],
            interaction_id=row["entry_interaction"],
            title=row["entry_title"] or "",
            body=row["entry_body"] or "",
            score=row["entry_score"],
            channel=row["entry_channel"] or "",
            status=row["entry_status"] or "",
            direction=row["entry_direction"] or "",
        )
        for row in rows
    ]
