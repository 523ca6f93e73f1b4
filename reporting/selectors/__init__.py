"""What reporting reads: KPI rows (``kpis``, built on ``reporting.sums``, which the hourly rollup shares) and the
breakdowns beside them (``breakdowns``)."""

from ..sums import (
    ASYNC_CHANNELS,
    GROUP_BY,
    INTERACTION_SUMS,
    KPI_FIELDS,
    SUMS,
    SURVEY_SUMS,
    KpiQuery,
    fraction,
    interaction_sums,
    kpi_interactions,
    kpi_scope_q,
    survey_sums,
)
from .breakdowns import agent_occupancy, backlog_at, contacts_by_category
from .kpis import kpi_row, kpi_rows, merge_sums, raw_sums

__all__ = [
    "ASYNC_CHANNELS",
    "GROUP_BY",
    "INTERACTION_SUMS",
    "KPI_FIELDS",
    "SUMS",
    "SURVEY_SUMS",
    "KpiQuery",
    "agent_occupancy",
    "backlog_at",
    "contacts_by_category",
    "fraction",
    "interaction_sums",
    "kpi_interactions",
    "kpi_row",
    "kpi_rows",
    "kpi_scope_q",
    "merge_sums",
    "raw_sums",
    "survey_sums",
]
