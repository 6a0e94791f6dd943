"""The search core: the driver loop (``run_search``), the searcher (Optuna) and the executors."""

from __future__ import annotations

from dse.search.driver import Driver, ProgressCallback, SearchInterrupted, SearchResult, TrialSummary, run_search
from dse.search.executor import Executor, InProcessExecutor, Ticket
from dse.search.searcher import Searcher, counts_toward_budget, derive_seed

__all__ = [
    "Driver", "Executor", "InProcessExecutor", "ProgressCallback", "SearchInterrupted", "SearchResult", "Searcher",
    "Ticket", "TrialSummary", "counts_toward_budget", "derive_seed", "run_search",
]
