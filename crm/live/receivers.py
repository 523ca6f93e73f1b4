"""The live events' receivers: after a change committed, build what it publishes and hand it to the publisher.

Connected in ``CrmConfig.ready``. A receiver never raises: the change is committed already, so a failed read or
publish is logged (clients catch up at their next resync or reconnect).
"""

import logging

from django.dispatch import receiver

from agents.models import Agent, Break
from agents.signals import (
    agent_status_changed,
    break_decided,
    break_due,
    break_ended,
    break_requested,
    break_started,
    training_expired,
    training_expiring,
)
from crm.inboxes.models import Delivery
from crm.inboxes.signals import delivery_changed
from crm.interactions.models import Interaction, Message
from crm.interactions.signals import interaction_changed, message_created
from crm.sla.signals import sla_breaches

from .events import (
    agent_and_team_groups,
    agent_status_sends,
    break_sends,
    delivery_sends,
    interaction_batch_sends,
    interaction_sends,
    iso,
    message_sends,
    sla_breaches_sends,
    training_sends,
)
from .publisher import publish
from .queue_stats import QueueStatsMark, queue_stats_changed

logger = logging.getLogger(__name__)


@receiver(interaction_changed, sender=Interaction, dispatch_uid="crm.events.publish_interaction_changed")
def publish_interaction_changed(
    sender, *, interaction_id, kind, from_status, to_status, batch=None, batch_index=0, **kwargs
) -> None:
    if batch is not None and batch_index:
        return  # published with the first change of its batch
    try:
        if batch is not None:
            sends, queues = interaction_batch_sends(changes=batch)
        else:
            sends, queues = interaction_sends(
                interaction_id=interaction_id, kind=kind, from_status=from_status, to_status=to_status
            )
    except Exception:
        # the caller's change is committed; a failed read must not turn it into an error
        logger.exception("live events: could not build the event of interaction %s (%s)", interaction_id, kind)
        return
    # their figures follow, once per interval for all changes (crm.live.queue_stats): the queues are marked in the
    # publish's last round trip when it can take them, else in one of their own
    mark = QueueStatsMark(queues)
    publish(sends, then=mark)
    if not mark.done:
        queue_stats_changed(queues)


@receiver(agent_status_changed, sender=Agent, dispatch_uid="crm.events.publish_agent_status_changed")
def publish_agent_status_changed(sender, *, agent, **kwargs) -> None:
    try:
        sends = agent_status_sends(agent_id=agent.pk)
    except Exception:
        logger.exception("live events: could not build the status event of agent %s", getattr(agent, "pk", None))
        return
    publish(sends)


def _publish_break(event: str, agent: Agent, brk: Break) -> None:
    try:
        sends = break_sends(event=event, agent=agent, brk=brk)
    except Exception:
        logger.exception("live events: could not build %s of agent %s", event, getattr(agent, "pk", None))
        return
    publish(sends)


@receiver(break_requested, sender=Agent, dispatch_uid="crm.events.publish_break_requested")
def publish_break_requested(sender, *, agent, brk, **kwargs) -> None:
    _publish_break("break.requested", agent, brk)


@receiver(break_decided, sender=Agent, dispatch_uid="crm.events.publish_break_decided")
def publish_break_decided(sender, *, agent, brk, **kwargs) -> None:
    _publish_break("break.decided", agent, brk)


@receiver(break_started, sender=Agent, dispatch_uid="crm.events.publish_break_started")
def publish_break_started(sender, *, agent, brk, **kwargs) -> None:
    _publish_break("break.started", agent, brk)


@receiver(break_ended, sender=Agent, dispatch_uid="crm.events.publish_break_ended")
def publish_break_ended(sender, *, agent, brk, **kwargs) -> None:
    _publish_break("break.ended", agent, brk)


@receiver(break_due, sender=Agent, dispatch_uid="crm.events.publish_break_due")
def publish_break_due(sender, *, agent, notice, **kwargs) -> None:
    data = {
        "agent": agent.pk,
        "notice": notice.pk,
        "minutes": notice.minutes,
        "detail": notice.detail,
        "due_at": iso(notice.due_at),
    }
    publish([(agent_and_team_groups(agent), "break.due", data)])


@receiver(training_expiring, sender=Agent, dispatch_uid="crm.events.publish_training_expiring")
def publish_training_expiring(sender, *, agent, record, days_left=None, **kwargs) -> None:
    try:
        sends = training_sends(event="training.expiring", agent=agent, record=record, days_left=days_left)
    except Exception:
        logger.exception("live events: could not build training.expiring of record %s", getattr(record, "pk", None))
        return
    publish(sends)


@receiver(training_expired, sender=Agent, dispatch_uid="crm.events.publish_training_expired")
def publish_training_expired(sender, *, agent, record, **kwargs) -> None:
    try:
        sends = training_sends(event="training.expired", agent=agent, record=record, days_left=None)
    except Exception:
        logger.exception("live events: could not build training.expired of record %s", getattr(record, "pk", None))
        return
    publish(sends)


@receiver(sla_breaches, dispatch_uid="crm.events.publish_sla_breaches")
def publish_sla_breaches(sender, *, breaches, **kwargs) -> None:
    """A sweep's breaches: one query and one hand-over to the publisher loop, whatever their number."""
    try:
        sends = sla_breaches_sends(breaches=breaches)
    except Exception:
        logger.exception("live events: could not build sla.breached of %d breach(es)", len(breaches))
        return
    publish(sends)


@receiver(delivery_changed, sender=Delivery, dispatch_uid="crm.events.publish_delivery_changed")
def publish_delivery_changed(sender, *, message_id, interaction_id, status, error="", attempts=0, **kwargs) -> None:
    """A reply's delivery moved (sent, failed, retrying): its status beside the reply changes in place. The agent to
    tell comes with the signal (``agent_id``) when its sender knew it, else it is read."""
    holder = {"agent_id": kwargs["agent_id"]} if "agent_id" in kwargs else {}
    try:
        sends = delivery_sends(
            interaction_id=interaction_id,
            message_id=message_id,
            status=status,
            error=error,
            attempts=attempts,
            **holder,
        )
    except Exception:
        logger.exception("live events: could not build message.delivery of message %s", message_id)
        return
    publish(sends)


@receiver(message_created, sender=Message, dispatch_uid="crm.events.publish_message_created")
def publish_message_created(sender, *, message_id, interaction_id, direction, agent_id=None, **kwargs) -> None:
    """A customer's message arrived: the console showing its interaction redraws the conversation."""
    try:
        sends = message_sends(
            interaction_id=interaction_id, message_id=message_id, direction=direction, agent_id=agent_id
        )
    except Exception:
        logger.exception("live events: could not build message.created of message %s", message_id)
        return
    if sends:
        publish(sends)
