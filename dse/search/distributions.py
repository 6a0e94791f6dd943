"""Optuna distributions of the space's searchable values (the space itself knows nothing of Optuna)."""

from __future__ import annotations

from typing import Any

from dse.space.searchable import Searchable

__all__ = ["distribution"]


def distribution(value: Searchable) -> Any:
    """The Optuna distribution of a searchable value: categorical for choices, int or float for a
    range (with its ``step`` or ``log``)."""
    import optuna.distributions as d

    if value.choices is not None:
        return d.CategoricalDistribution(list(value.choices))
    assert value.low is not None and value.high is not None
    if value.kind == "int":
        return d.IntDistribution(int(value.low), int(value.high), log=value.log,
                                 step=1 if value.log else int(value.step or 1))
    return d.FloatDistribution(float(value.low), float(value.high), log=value.log, step=value.step)
