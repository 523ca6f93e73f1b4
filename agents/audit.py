"""The supervision audit log: every break, training and status action with who did it (``SupervisorAction``).

Django's admin LogEntry only sees admin edits; this log also records what the API and the beat tasks do,
so a supervisor reads one history per agent whatever the door.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .models import Agent, SupervisorAction

DETAIL_MAX_LENGTH = SupervisorAction._meta.get_field("detail").max_length


def supervisor_action_log(
    *,
    kind: str,
    agent: Agent | None,
    actor: AbstractBaseUser | None = None,
    object_id: int | None = None,
    detail: str = "",
) -> SupervisorAction:
    """Append one row (call inside the service's transaction, so a rolled-back action leaves no trace)."""
    return SupervisorAction.objects.create(
        at=timezone.now(),
        kind=kind,
        agent=agent,
        actor=actor if getattr(actor, "pk", None) is not None else None,
        object_id=object_id,
        detail=detail[:DETAIL_MAX_LENGTH],
    )
