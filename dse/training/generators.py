"""Generated data sets (``data.source: generator``), deterministic and offline.

``muon_strips``: muon-like strip-detector images, a stand-in for the real muon-chamber data of the
Level-1 muon trigger CNNs (hit maps of 4 or 9 detector layers by a few hundred strips). Each image
is a binary hit map of shape (layers, strips, 1): one straight track, and noise hits. The track has
a random intercept and a random slope (in strips per layer); it leaves a hit in each layer with
probability ``efficiency``, at the strip nearest to its crossing point. Every strip of every layer
also fires with probability ``noise``. The label is the slope's bin: ``angle_bins`` equal bins of
``[-max_slope, +max_slope)``, and the classes are exactly balanced (each bin gets
``samples // angle_bins`` or one more image). The same settings and seed give the same images.

Unlike the real detector, there are no clusters of several strips, no multiple scattering, no
second muon and no dead strips: the task is easier and only stands in for the real data's shape,
sparsity and kind of label.
"""

from __future__ import annotations

import logging

import numpy as np

from dse.space import GeneratorConfig

log = logging.getLogger(__name__)

__all__ = ["GENERATOR_FUNCTIONS", "muon_strips"]


def muon_strips(cfg: GeneratorConfig) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(x, y, feature_names)``: ``x`` float32 hit maps of shape (samples, layers, strips, 1), values 0
    or 1; ``y`` int64 slope-bin labels in ``[0, angle_bins)``; names ``hits[layer,strip]``."""
    rng = np.random.default_rng(cfg.seed)
    n, n_layers, n_strips, bins = cfg.samples, cfg.layers, cfg.strips, cfg.angle_bins
    y = rng.permutation(np.arange(n) % bins)
    width = 2 * cfg.max_slope / bins
    slope = -cfg.max_slope + (y + rng.random(n)) * width
    z = np.arange(n_layers) - (n_layers - 1) / 2  # layer positions around the detector's centre
    margin = cfg.max_slope * (n_layers - 1) / 2
    centre = rng.uniform(margin, n_strips - 1 - margin, size=n)
    strip = np.clip(np.floor(centre[:, None] + slope[:, None] * z[None, :] + 0.5), 0, n_strips - 1).astype(np.int64)
    hit = rng.random((n, n_layers)) < cfg.efficiency
    x = rng.random((n, n_layers, n_strips)) < cfg.noise
    rows, layers = np.nonzero(hit)
    x[rows, layers, strip[rows, layers]] = True
    names = [f"hits[{i},{j}]" for i in range(n_layers) for j in range(n_strips)]
    log.info("muon_strips: %d images of %d layers x %d strips, %d slope bins, noise %g", n, n_layers, n_strips,
             bins, cfg.noise)
    return x[..., None].astype(np.float32), y.astype(np.int64), names


GENERATOR_FUNCTIONS = {"muon_strips": muon_strips}
"""Generator name → function of its ``GeneratorConfig``."""
