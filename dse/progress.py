"""The CLI progress bar: trials done, best-so-far accuracy and cost among feasible trials."""

from __future__ import annotations

import sys
from typing import Any

from dse.space import SpaceConfig


class ProgressBar:
    def __init__(self, total: int, space: SpaceConfig, enabled: bool = True):
        self.space = space
        self.best: dict[str, float] = {}
        self.bar: Any = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="trial", file=sys.stderr, dynamic_ncols=True,
                            disable=None)  # disable=None: off when stderr is not a terminal

    def update(self, summary: Any, done: int, total: int) -> None:
        if summary.state == "COMPLETE" and summary.feasible:
            for o in self.space.objectives:
                v = summary.values.get(o.metric)
                if v is None:
                    continue
                cur = self.best.get(o.metric)
                better = cur is None or (v > cur if o.direction == "maximize" else v < cur)
                if better:
                    self.best[o.metric] = v
        if self.bar is None:
            return
        self.bar.total = max(total, done)
        self.bar.n = done
        self.bar.set_postfix_str(", ".join(f"best {k} {v:.4g}" for k, v in self.best.items()), refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
