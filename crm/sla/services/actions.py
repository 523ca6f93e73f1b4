"""What an escalation step does once the sweep has recorded it (and only the sweep that recorded it).

The breach itself (step 0) sends ``crm.sla.signals.sla_breached`` and, with ``sla_breach_webhooks``, an
``sla.breached`` webhook delivery written in the sweep's transaction (the outbox), and once per sweep
``sla_breaches`` with all its breaches (the live events batch on it); a ``warn`` step sends ``sla_warning``;
``notify_supervisors`` emails the supervisors of the queue's team; ``raise_priority`` and ``move_to_queue``
go through the lifecycle (so they are logged, recompute the clocks and, for a move, ask for routing).
Signals and emails leave on commit. An action the lifecycle refuses (the interaction moved on meanwhile,
the queue no longer serves the channel) is written to the escalation's ``outcome``; it never fails the sweep.
"""

import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction

from agents.models import Team
from config.errors import DomainError
from crm.choices import InteractionStatus, Priority
from crm.interactions.models import Interaction
from crm.interactions.services.handover import interaction_escalate, interaction_transfer
from crm.interactions.services.lifecycle import interaction_update
from crm.routing.models import Queue
from crm.webhooks.services import webhook_emit_many

from ..models import Escalation
from ..signals import sla_breached, sla_breaches, sla_warning
from .engine import PlannedStep, SweptRow

logger = logging.getLogger(__name__)

SWEEP_NOTE = "SLA escalation"


def _signal_kwargs(escalation_id: int, interaction_id: int, step: PlannedStep) -> dict:
    return {
        "escalation_id": escalation_id,
        "interaction_id": interaction_id,
        "target": step.target,
        "step": step.step,
        "kind": step.kind,
        "due_at": step.due_at,
    }


def _notify_supervisors(interaction: Interaction, step: PlannedStep) -> str:
    team = Team.objects.filter(queues__interactions=interaction.pk).prefetch_related("supervisors").first()
    recipients = sorted({u.email for u in team.supervisors.all() if u.email and u.is_active}) if team else []
    if not recipients:
        return "no supervisor with an email address"
    what = "breached" if step.kind == Escalation.Kind.BREACH else "nearly due"
    subject = f"SLA {what}: interaction #{interaction.pk} ({step.target.replace('_', ' ')})"
    body = (
        f"Interaction #{interaction.pk} in queue {interaction.queue} — {step.target.replace('_', ' ')} "
        f"{'was due' if step.kind == Escalation.Kind.BREACH else 'falls due'} at {step.due_at:%Y-%m-%d %H:%M} UTC.\n"
        f"Subject: {interaction.subject or '(none)'}\nPriority: {interaction.get_priority_display()}\n"
    )
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients))
    return f"emailed {len(recipients)} supervisor(s)"


def _raise_priority(interaction: Interaction) -> str:
    current = Interaction.objects.filter(pk=interaction.pk).values_list("priority", flat=True).get()
    if current >= Priority.URGENT:
        return "already urgent"
    interaction_update(interaction=interaction, priority=current + 1)
    return f"priority {current} → {current + 1}"


def _move_to_queue(interaction: Interaction, queue_id: int | None) -> str:
    queue = Queue.objects.filter(pk=queue_id).first()
    if queue is None:
        return f"queue {queue_id} no longer exists"
    status = Interaction.objects.filter(pk=interaction.pk).values_list("status", flat=True).get()
    if status == InteractionStatus.QUEUED:
        interaction_escalate(interaction=interaction, to_queue=queue, note=SWEEP_NOTE)
    else:
        interaction_transfer(interaction=interaction, to_queue=queue, note=SWEEP_NOTE)
    return f"moved to queue {queue.pk}"


def sla_send_signals(steps: list[tuple[int, int, PlannedStep]]) -> None:
    """The signals of the signal-only steps one sweep recorded, as (escalation id, interaction id, step).

    One on-commit callback for all of them (not one per step): ``sla_breached`` or ``sla_warning`` per step,
    then ``sla_breaches`` once with every breach, for receivers that batch their I/O.
    """
    if not steps:
        return
    sends = [
        (sla_breached if step.step == 0 else sla_warning, _signal_kwargs(escalation_id, interaction_id, step))
        for escalation_id, interaction_id, step in steps
    ]
    breaches = [kwargs for signal, kwargs in sends if signal is sla_breached]

    def send() -> None:
        for signal, kwargs in sends:
            signal.send(sender=Escalation, **kwargs)
        if breaches:
            sla_breaches.send(sender=Escalation, breaches=breaches)

    transaction.on_commit(send)


def sla_run_action(*, escalation_id: int, interaction: Interaction, step: PlannedStep) -> None:
    """Run one newly recorded step's action inside the sweep's transaction and write its outcome.

    Not for a step whose action is only a signal (``step.signal_outcome``): ``sla_send_signals`` sends those.
    """
    try:
        with transaction.atomic():  # a refused action rolls back alone, the escalation stays recorded
            if step.action == "notify_supervisors":
                outcome = _notify_supervisors(interaction, step)
            elif step.action == "raise_priority":
                outcome = _raise_priority(interaction)
            else:
                outcome = _move_to_queue(interaction, step.queue_id)
    except (DomainError, ValidationError) as exc:
        outcome = "refused: " + (" ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc))
        logger.info("sla: escalation %s of interaction %s %s", escalation_id, interaction.pk, outcome)
    Escalation.objects.filter(pk=escalation_id).update(outcome=outcome[:300])


def sla_breach_webhooks(breaches: list[tuple[int, Interaction | SweptRow, PlannedStep]]) -> None:
    """``sla.breached`` for the breaches one sweep recorded, as (escalation id, interaction, step): one batch."""
    webhook_emit_many(
        type="sla.breached",
        events=[
            {
                "escalation_id": escalation_id,
                "interaction": {
                    "id": interaction.pk,
                    "queue_id": interaction.queue_id,
                    "agent_id": interaction.agent_id,
                    "customer_id": interaction.customer_id,
                    "channel": interaction.channel,
                    "priority": interaction.priority,
                },
                "target": step.target,
                "due_at": step.due_at,
            }
            for escalation_id, interaction, step in breaches
        ],
    )
