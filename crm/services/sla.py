"""Temporary: removed in phase 2. ``crm.services.sla`` moved to ``crm.interactions.models``, ``crm.sla.services.engine``, ``crm.sla.services.state``, ``crm.sla.services.steps``, ``crm.sla.services.sweep``.

Re-exports for the modules not moved yet (admin, API, console views, consumers); new code imports the new paths.
"""

from crm.interactions.models import (  # noqa: F401
    SLA_FIELDS,
)
from crm.sla.services.calendars import policy_ids_using_calendar  # noqa: F401
from crm.sla.services.engine import (  # noqa: F401
    SWEPT_FIELDS,
    Context,
    PlannedStep,
    SweptRow,
    sla_due_times,
    sla_recompute_open,
    sla_refresh,
    sla_request_recompute,
    sla_target_for,
)
from crm.sla.services.state import (  # noqa: F401
    SLAState,
    sla_state,
)
from crm.sla.services.steps import (  # noqa: F401
    ACTIONS,
    MAX_STEPS,
    sla_check_escalation_steps,
)
from crm.sla.services.sweep import (  # noqa: F401
    sla_sweep,
)

__all__ = [
    "ACTIONS",
    "Context",
    "MAX_STEPS",
    "PlannedStep",
    "SLAState",
    "SLA_FIELDS",
    "SWEPT_FIELDS",
    "SweptRow",
    "policy_ids_using_calendar",
    "sla_check_escalation_steps",
    "sla_due_times",
    "sla_recompute_open",
    "sla_refresh",
    "sla_request_recompute",
    "sla_state",
    "sla_sweep",
    "sla_target_for",
]
