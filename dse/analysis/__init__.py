"""Analysis of a finished (or running) run folder, read-only: ``load_run`` and the :class:`Run`
tables (``run``), objectives, Pareto fronts and hypervolume (``fronts``), the report (``report``,
``report_tables``), figures (``plots``), trial tables (``tables``), budget summaries
(``budget_report``) and number formatting (``formatting``)."""

from __future__ import annotations

from dse.analysis.fronts import (
    MAXIMIZED,
    METRIC_COLUMNS,
    default_direction,
    hypervolume,
    hypervolume_history,
    metric_column,
    pareto_front,
    resolve_objectives,
)
from dse.analysis.run import (
    BASE_COLUMNS,
    RESOURCE_KEYS,
    SYNTHESIS_COLUMNS,
    Run,
    load_run,
    read_synthesis_records,
)
from dse.store.study_reader import open_study_readonly

__all__ = [
    "BASE_COLUMNS", "MAXIMIZED", "METRIC_COLUMNS", "RESOURCE_KEYS", "SYNTHESIS_COLUMNS", "Run", "default_direction",
    "hypervolume", "hypervolume_history", "load_run", "metric_column", "open_study_readonly", "pareto_front",
    "read_synthesis_records", "resolve_objectives",
]
