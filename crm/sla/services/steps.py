"""Validating a policy's escalation steps (``SLAPolicy.escalation_steps``)."""

import math
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.choices import EscalationAction, SLAClock
from crm.routing.models import Queue

Target = SLAClock
ACTIONS = tuple(EscalationAction.values)
MAX_STEPS = 20


def sla_check_escalation_steps(steps: Any) -> list[dict]:
    """Validate and normalise a policy's escalation steps; raise ``ValidationError`` with one message per fault.

    A step is ``{"target": "first_response"|"next_response"|"resolution", "action": "warn"|
    "notify_supervisors"|"raise_priority"|"move_to_queue", "at": fraction of the target (0 < at ≤ 1; 0.8 warns
    at 80 %, 1 is the breach itself)}`` or, instead of ``at``, ``"after_seconds"``: SLA seconds after the breach
    (≥ 0). ``move_to_queue`` needs ``"queue"``: the id of an active queue. Messages are prefixed by the step's
    position (``"Step 2: …"``), so the API can answer them as field messages of ``escalation_steps``.
    """
    if not isinstance(steps, list):
        raise ValidationError({"escalation_steps": _("Give a list of steps.")})
    if len(steps) > MAX_STEPS:
        raise ValidationError({"escalation_steps": _("At most %(MAX_STEPS)s steps.") % {"MAX_STEPS": MAX_STEPS}})
    errors: list[str] = []
    cleaned: list[dict] = []
    for n, step in enumerate(steps, start=1):
        fault = _step_fault(step)
        if fault:
            errors.append(f"Step {n}: {fault}")
            continue
        item = {"target": step["target"], "action": step["action"]}
        item |= {"at": float(step["at"])} if "at" in step else {"after_seconds": int(step["after_seconds"])}
        if step["action"] == "move_to_queue":
            item["queue"] = int(step["queue"])
        cleaned.append(item)
    queue_ids = {s["queue"] for s in cleaned if "queue" in s}
    known = set(Queue.objects.filter(pk__in=queue_ids, is_active=True).values_list("pk", flat=True))
    for n, step in enumerate(steps, start=1):
        if isinstance(step, dict) and step.get("action") == "move_to_queue" and _int(step.get("queue")) is not None:
            if int(step["queue"]) not in known:
                errors.append(f"Step {n}: queue {step['queue']} does not exist or is not active.")
    if errors:
        raise ValidationError({"escalation_steps": errors})
    return cleaned


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _step_fault(step: Any) -> str | None:
    if not isinstance(step, dict):
        return "a step is an object with target, action and at (or after_seconds)."
    unknown = set(step) - {"target", "action", "at", "after_seconds", "queue"}
    if unknown:
        return f"unknown field(s) {', '.join(sorted(map(str, unknown)))}."
    if step.get("target") not in Target.values:
        return f"target must be one of {', '.join(Target.values)}."
    if step.get("action") not in ACTIONS:
        return f"action must be one of {', '.join(ACTIONS)}."
    if ("at" in step) == ("after_seconds" in step):
        return "give exactly one of at (a fraction of the target) and after_seconds (after the breach)."
    if "at" in step:
        at = step["at"]
        if isinstance(at, bool) or not isinstance(at, int | float) or not (0 < at <= 1) or math.isnan(at):
            return "at is a fraction of the target, greater than 0 and at most 1 (0.8 = at 80 %)."
    elif _int(step["after_seconds"]) is None or not 0 <= step["after_seconds"] <= 2_147_483_647:
        return "after_seconds is a whole number of seconds after the breach, 0 or more."
    if step["action"] == "move_to_queue":
        if _int(step.get("queue")) is None:
            return "move_to_queue needs queue, the id of the queue to move to."
    elif "queue" in step:
        return "only move_to_queue takes a queue."
    return None
