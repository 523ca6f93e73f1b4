"""The audit logs' writers: ``AuditEntry`` (every change, recorded by ``config.audit``) and the supervision
history ``SupervisorAction`` (every break, training and status action, what an agent's history shows).

One log: each supervisor action is also written as an ``AuditEntry`` (action = its kind), so the audit log has
every change whatever the door, while ``SupervisorAction`` stays the agent-history view of a subset of it.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from config.audit import AuditRecord, current, record
from config.rows import rows_insert

from .models import Agent, AuditEntry, AuditSource, SupervisorAction

DETAIL_MAX_LENGTH = SupervisorAction._meta.get_field("detail").max_length


def audit_entry_write(entry: AuditRecord) -> AuditEntry:
    """Append one ``AuditEntry`` (the ``config.audit.audit_write`` handler; runs in the changing transaction)."""
    return AuditEntry.objects.create(**_entry_fields(entry))


def audit_entries_write(entries: list[AuditRecord]) -> list[AuditEntry]:
    """Append the entries of one ``config.audit.audit_batched`` block in one INSERT, in order (the
    ``audit_write_many`` handler; runs in the changing transaction)."""
    return rows_insert([AuditEntry(**_entry_fields(entry)) for entry in entries])


def _entry_fields(entry: AuditRecord) -> dict:
    return dict(
        at=entry.at or timezone.now(),
        source=entry.source,
        actor=entry.actor,
        actor_user_id=entry.actor_user_id,
        actor_api_key_id=entry.actor_api_key_id,
        client_ip=entry.client_ip,
        content_type=ContentType.objects.get_for_model(entry.model, for_concrete_model=False) if entry.model else None,
        object_id=entry.object_id,
        object_repr=entry.object_repr,
        action=entry.action,
        changes=entry.changes,
        team_id=entry.team_id,
    )


def supervisor_action_log(
    *,
    kind: str,
    agent: Agent | None,
    actor: AbstractBaseUser | None = None,
    object_id: int | None = None,
    detail: str = "",
) -> SupervisorAction:
    """Append one row (call inside the service's transaction, so a rolled-back action leaves no trace), and its
    ``AuditEntry``: by the request's or command's actor when there is one, else by ``actor`` or the system."""
    action = SupervisorAction.objects.create(
        at=timezone.now(),
        kind=kind,
        agent=agent,
        actor=actor if getattr(actor, "pk", None) is not None else None,
        object_id=object_id,
        detail=detail[:DETAIL_MAX_LENGTH],
    )
    changes = {"detail": detail[:DETAIL_MAX_LENGTH]} if detail else {}
    if agent is None or not record(action=kind, instance=agent, changes=changes):
        user = action.actor
        audit_entry_write(
            AuditRecord(
                action=kind,
                source=current().source if current() else AuditSource.SYSTEM,
                actor=user.get_username() if user is not None else "system",
                actor_user_id=user.pk if user is not None else None,
                model=Agent if agent is not None else None,
                object_id=str(agent.pk) if agent is not None else "",
                object_repr=str(agent)[:200] if agent is not None else "",
                changes=changes,
                team_id=agent.team_id if agent is not None else None,
            )
        )
    return action
