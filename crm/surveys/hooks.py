"""What surveys register on the core's hooks.

``events_logged`` (``crm.interactions.hooks``): ``schedule_survey_on_resolution`` writes the survey of each
resolution in its transaction (the survey row is the outbox of its dispatch). Registered after the webhooks'
handler, so a resolution's ``interaction.resolved`` delivery is written before its survey, as it always was.
"""

from collections.abc import Sequence

from crm.choices import InteractionEventKind
from crm.interactions import hooks as core
from crm.interactions.models import InteractionEvent

from .services import survey_schedule


def schedule_survey_on_resolution(*, events: Sequence[InteractionEvent]) -> None:
    for event in events:
        if event.kind == InteractionEventKind.RESOLVED:
            survey_schedule(interaction=event.interaction, now=event.at)


def register() -> None:
    core.events_logged.register(schedule_survey_on_resolution)
