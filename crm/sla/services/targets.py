"""Which SLA target applies to an interaction: the most specific one of its queue's policy, cached per process."""

from collections.abc import Iterable

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Q

from config.rowcache import RowCache
from crm.routing.models import Queue

from ..models import SLATarget


def rank_targets(candidates: Iterable[SLATarget], *, channel: str, priority: int) -> SLATarget | None:
    matching = [t for t in candidates if t.channel in (channel, "") and t.priority in (priority, None)]
    return max(matching, key=lambda t: (t.channel == channel, t.priority == priority), default=None)


# The targets of each (policy, channel, priority), per process (``config.rowcache``), with the policy and its
# calendar: every create and reply plans due times. A change to a target, a policy or a calendar (its periods and
# holidays too) empties it in every process.
_targets = RowCache(
    "sla targets",
    watch={
        "crm.SLATarget": None,
        "crm.SLAPolicy": None,
        "crm.BusinessHours": None,
        "crm.BusinessHoursPeriod": None,
        "crm.BusinessHoursHoliday": None,
    },
)


def sla_target_for(*, queue: Queue | None, channel: str, priority: int) -> SLATarget | None:
    """The most specific target of the queue's active policy for this channel and priority.

    Specificity: channel and priority, then channel with any priority, then any channel with the
    priority, then any channel and any priority. No queue, no policy or an inactive one: no target.
    The answer is shared by the process (read it, never change it).
    """
    if queue is None or queue.sla_policy_id is None:
        return None
    policy_id = queue.sla_policy_id

    def load() -> SLATarget | None:
        # at most four rows match; ranking them here is simpler than a CASE ordering and as cheap
        candidates = (
            SLATarget.objects.using(DEFAULT_DB_ALIAS)
            .select_related("policy__business_hours")
            .filter(
                Q(priority=priority) | Q(priority__isnull=True),
                policy_id=policy_id,
                policy__is_active=True,
                channel__in=[channel, ""],
            )
        )
        return rank_targets(candidates, channel=channel, priority=priority)

    return _targets.get((policy_id, channel, priority), load)
