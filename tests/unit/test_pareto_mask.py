"""``pareto_mask`` (vectorised) against the definition written out pair by pair: ties kept, NaN neither
dominating nor dominated, infinities ordered, either direction."""

from __future__ import annotations

import math
import random

from dse.scoring.pareto import pareto_mask


def dominates(q: list[float], p: list[float]) -> bool:
    return all(a <= b for a, b in zip(q, p, strict=True)) and any(a < b for a, b in zip(q, p, strict=True))


def reference(points: list[list[float]], directions: list[str]) -> list[bool]:
    signs = [1.0 if d == "minimize" else -1.0 for d in directions]
    pts = [[s * v for s, v in zip(signs, p, strict=True)] for p in points]
    return [not any(i != j and dominates(q, p) for j, q in enumerate(pts)) for i, p in enumerate(pts)]


def test_pareto_mask_is_the_pairwise_definition_on_random_points_with_ties_nan_and_infinities() -> None:
    rng = random.Random(0)
    specials = [0.0, 1.0, -1.0, 2.0, math.inf, -math.inf, math.nan]
    for _ in range(200):
        n, d = rng.randint(0, 40), rng.randint(1, 4)
        points = [[rng.choice(specials) if rng.random() < 0.5 else rng.random() for _ in range(d)] for _ in range(n)]
        directions = [rng.choice(["minimize", "maximize"]) for _ in range(d)]
        assert pareto_mask(points, directions) == reference(points, directions), (points, directions)


def test_pareto_mask_on_more_points_than_one_block() -> None:
    rng = random.Random(1)
    points = [[rng.randint(0, 20), rng.randint(0, 20), rng.random()] for _ in range(800)]  # 2 blocks of 436
    directions = ["maximize", "minimize", "minimize"]
    mask = pareto_mask(points, directions)
    assert mask == reference(points, directions)
    assert 0 < sum(mask) < len(points)
    assert pareto_mask([[1.0, 2.0], [1.0, 2.0]], ["minimize", "minimize"]) == [True, True]  # ties are kept
