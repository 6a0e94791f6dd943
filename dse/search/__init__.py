"""The search core: the driver loop (``run_search``), the searcher (Optuna) and the executors.

The names below load their module on first use (PEP 562), so that importing a light submodule such as
``dse.search.quiet`` (the CLI's first import, also for ``dse estimate``) does not import the driver, the
design layer and Optuna.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dse.search.driver import Driver, ProgressCallback, SearchInterrupted, SearchResult, TrialSummary, run_search
    from dse.search.executor import Executor, InProcessExecutor, Ticket
    from dse.search.searcher import Searcher, counts_toward_budget, derive_seed

_MODULE_OF = {
    **dict.fromkeys(("Driver", "ProgressCallback", "SearchInterrupted", "SearchResult", "TrialSummary",
                     "run_search"), "dse.search.driver"),
    **dict.fromkeys(("Executor", "InProcessExecutor", "Ticket"), "dse.search.executor"),
    **dict.fromkeys(("Searcher", "counts_toward_budget", "derive_seed"), "dse.search.searcher"),
}

__all__ = [
    "Driver", "Executor", "InProcessExecutor", "ProgressCallback", "SearchInterrupted", "SearchResult", "Searcher",
    "Ticket", "TrialSummary", "counts_toward_budget", "derive_seed", "run_search",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'dse.search' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
