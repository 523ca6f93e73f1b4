"""Temporary: removed in phase 2. ``crm.services.queues`` moved to ``crm.routing.services.queues``, ``crm.sla.services.policies``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.routing.services.queues import (  # noqa: F401
    QUEUE_FIELDS,
    SkillRequirement,
    queue_check_overflow,
    queue_create,
    queue_delete,
    queue_delete_blockers,
    queue_update,
)
from crm.sla.services.policies import (  # noqa: F401
    KEEP,
    SLA_POLICY_FIELDS,
    TargetSpec,
    sla_check_targets,
    sla_policy_create,
    sla_policy_delete,
    sla_policy_delete_blockers,
    sla_policy_update,
    target_spec,
)

__all__ = [
    "KEEP",
    "QUEUE_FIELDS",
    "SLA_POLICY_FIELDS",
    "SkillRequirement",
    "TargetSpec",
    "queue_check_overflow",
    "queue_create",
    "queue_delete",
    "queue_delete_blockers",
    "queue_update",
    "sla_check_targets",
    "sla_policy_create",
    "sla_policy_delete",
    "sla_policy_delete_blockers",
    "sla_policy_update",
    "target_spec",
]
