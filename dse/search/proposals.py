"""Choosing what to train: Optuna's sampler proposes, the cost model screens, a surrogate picks.

``Planner.propose()`` fills one training slot:

1. A **proposer study** is rebuilt in memory from the run's study: its trained trials as they are,
   and its screened designs as COMPLETE trials whose constraints say by how much the pre-training
   estimate breaks the budgets (Optuna's constrained samplers put infeasible trials on the bad side
   and do not read their objective values, which are placeholders: the estimated costs and the
   worst quality seen). Its sampler is the space's sampler seeded from the run's seed, the study
   version and the number of trials, so proposals are reproducible and differ from slot to slot.
   It is thrown away after the slot: the stored study holds only what happened.
2. The proposer is asked for designs until ``search.proposals`` of them survive. A design equal to
   one trained, training or screened before (after the cost model's normalisation, see
   ``design_key``) is skipped unless ``search.allow_repeats``; after ``REPEATS_BEFORE_RANDOM`` repeats
   in one slot the proposer draws at random for the rest of the slot (and, when the slot has a survivor
   already, stops after ``search.proposals`` random draws were screened: in a space where only a sliver
   meets the budgets, random draws are mostly screened, and each costs a write to the study). Each new
   design is estimated before training (``dse.search.screening``); one the study would refuse with
   high probability once trained is **screened**: added to the stored study as a FAIL trial with the
   user attributes ``screened`` (the reason), ``candidate`` and ``pre_estimate``. FAIL trials do not
   count toward ``n_trials`` and are ignored by Optuna's samplers; the proposer of later slots sees
   them as infeasible.
3. **While no trained design is feasible**, the survivor most likely to meet every budget (the product
   of its verdict probabilities, ``dse.search.screening``), then with the smallest relative violation
   of the budgets by its expected trained estimate, is trained; ties go to the usual choice below. In
   the proposer study every budget's constraint is divided by its bound, so Optuna's constrained sampler
   ranks infeasible trials by their total relative violation (not by whichever metric has the
   largest units) and moves toward the feasible region.
   **Once one is** (and the screener has learned from ``TRAINED_BEFORE_STRICT`` trained designs; before,
   the likely proposals are chosen among, or the most likely one when none is), a proposal less than
   ``LIKELY_MET`` likely to meet every budget after training is screened like one the budgets rule out
   (recorded with ``unlikely_reason``; the proposer of later slots sees its least likely budget as
   broken), so trained designs land inside the budgets. When the proposer is stuck on known designs,
   the untried neighbours of the feasible designs (one parameter one choice away,
   ``NEIGHBOURS_PER_SLOT``) are tried before random draws: the few designs of a sliver sit next to each
   other. Where only a sliver of the space meets the budgets, the search stops once
   ``MAX_REJECTED_IN_A_ROW`` proposals in a row were screened or repeats, saying that no design left is
   likely to meet them.
4. With one survivor wanted it is trained. With more, a random forest (scikit-learn, seeded)
   fitted on the trained trials predicts each quality objective; the known cost objectives come
   from the pre-training estimate; the survivor with the largest expected gain of hypervolume
   over the current feasible front (averaged over the forest's trees, times the probability that
   its budgets are met) is trained. Designs not chosen are not recorded.
5. The chosen design is queued in the stored study (``enqueue_trial`` with its ``pre_estimate``)
   and asked from it, so the trained trial is an ordinary trial of the study.

After ``MAX_REJECTED_IN_A_ROW`` proposals in a row that were screened or repeats, the budgets (or
the space) look unreachable: the planner says so and the search stops.

Before the first slot, ``Planner.survey`` estimates ``SURVEY_DESIGNS`` designs drawn at random from the
space (seeded, before training, milliseconds each) and reports the share the study is expected to
count as meeting the cost budgets: none (the budgets look unreachable) or a sliver (below
``SLIVER_SHARE``) is said as a warning before any training.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dse.design.candidate import Candidate, suggest_candidate
from dse.design.layer_kind import InputShape, as_shape
from dse.design.layer_kinds import weight_bits_value
from dse.design.prebuild import normalized, prebuild_layers
from dse.errors import ConfigError
from dse.scoring.budgets import with_bound
from dse.search.screening import PreEstimate, Screener
from dse.search.searcher import Proposal, Searcher, derive_seed, make_sampler
from dse.space import COST_METRICS, SpaceConfig
from dse.store import RunFolder, params_key
from dse.store.study_reader import trial_view
from dse.store.trial_view import TrialState, TrialView

log = logging.getLogger(__name__)

__all__ = ["MAX_REJECTED_IN_A_ROW", "FeasibleShare", "Planner", "PlannerStats", "design_key", "expected_gains",
           "layer_list_features", "make_design_key", "make_planner", "relative_violation", "surrogate_features",
           "surrogate_matrix", "unlikely_reason"]

MAX_REJECTED_IN_A_ROW = 300
MIN_TRIALS_FOR_SURROGATE = 5
REPEATS_BEFORE_RANDOM = 20
"""Repeated designs in one slot after which the proposer draws at random (the sampler is stuck)."""
TRAINED_BEFORE_STRICT = 5
"""Trained designs the screener must have learned from before an unlikely proposal (below ``LIKELY_MET``) is
screened once a feasible design is known; before, the most likely proposal is trained when none is likely,
so that a pre-to-post spread or bias the run has not measured yet cannot keep every design from training."""
NEIGHBOURS_PER_SLOT = 5
"""Once a trained design is feasible and the proposer is stuck on known designs, up to this many untried
neighbours of the feasible designs per wanted proposal are tried before random draws."""
SURVEY_DESIGNS = 256
"""Random designs estimated before training to measure the feasible share of the space."""
SLIVER_SHARE = 0.05
"""A feasible share below this is reported as a sliver."""
LIKELY_MET = 0.5
"""Once a trained design meets every budget, only proposals at least this likely to meet them all after
training (the study's verdict) are trained; the others are screened (``unlikely_reason``)."""
P_MET_TIE = 0.02
"""Probabilities of meeting the budgets closer than this count as equal when seeking feasibility."""
PROPOSER_SEED_OFFSET = 7919
"""Keeps the proposer's seed stream apart from the stored study's sampler."""


def design_key(cand: Candidate, space: SpaceConfig, input_shape: int | Sequence[int], n_classes: int) -> str:
    """A design's identity after the cost model's normalisation: the candidate as hls4ml will build it
    (``dse.design.prebuild.normalized``: ReuseFactors snapped under the Resource strategy, each conv's
    ParallelizationFactor snapped to a divisor of its output pixels). ``input_shape``: one sample's shape
    (an int: that many flat features)."""
    n_out = 1 if space.model.output_activation == "sigmoid" else n_classes
    return json.dumps(normalized(cand, input_shape, n_out).to_dict(), sort_keys=True, default=str)


def make_design_key(space: SpaceConfig, input_shape: int | Sequence[int] | None, n_classes: int | None
                    ) -> Callable[[Mapping[str, Any]], str]:
    """``params -> key`` for the searcher's dedupe: normalised when the data sizes are known."""
    if input_shape is None or n_classes is None:
        return lambda params: params_key(dict(params))
    shape = as_shape(input_shape)

    def key(params: Mapping[str, Any]) -> str:
        try:
            return design_key(Candidate.from_params(params, space), space, shape, n_classes)
        except (KeyError, ValueError, TypeError, ConfigError):  # an incomplete proposal, or one hls4ml cannot build
            return params_key(dict(params))

    return key


def surrogate_features(cand: Candidate, space: SpaceConfig, input_shape: int | Sequence[int],
                       n_classes: int = 10) -> list[float]:
    """A numeric description of a candidate for the surrogate.

    MLPs: a fixed-length vector (per-layer entries padded with 0 to the space's largest depth) from the
    values of the layers' knob groups in model order, as dse has always computed it. Other
    architectures: ``layer_list_features`` of the pre-training layer list (its length varies with the
    number of weighted layers: ``surrogate_matrix`` pads a batch to equal lengths). ``input_shape``: one
    sample's shape (an int: that many flat features); ``n_classes``: the data's classes."""
    if cand.architecture == "mlp":
        return _mlp_features(cand, space, math.prod(as_shape(input_shape)))
    return layer_list_features(cand, space, input_shape, n_classes)


def _mlp_features(cand: Candidate, space: SpaceConfig, n_features: int) -> list[float]:
    n_max = space.model.max_hidden_layers
    widths = [float(w) for w in cand.values("width")]
    sparsity = [float(x) for x in cand.values("sparsity")]
    sizes = [n_features, *widths]

    def pad(xs: list[float], n: int) -> list[float]:
        return (xs + [0.0] * n)[:n]

    bits = [float(weight_bits_value(b)) for b in cand.values("weight_bits")]
    nonzero = sum(sizes[i] * (sizes[i + 1] if i + 1 < len(sizes) else 10) * (1 - sparsity[i])
                  for i in range(len(sizes)))
    return [float(len(widths)), *pad(widths, n_max), *pad(bits, n_max + 1),
            *pad([float(b) for b in cand.values("activation_bits")], n_max), *pad(sparsity, n_max + 1),
            *pad([math.log2(r) for r in cand.values("reuse_factor")], n_max + 1), float(cand.strategy == "resource"),
            math.log10(cand.learning_rate), math.log(1.0 + nonzero)]


LAYER_FEATURES = 6
"""Numbers per weighted layer in ``layer_list_features``."""
GLOBAL_FEATURES = 8
"""Numbers before the per-layer block in ``layer_list_features``."""


def layer_list_features(cand: Candidate, space: SpaceConfig, input_shape: int | Sequence[int],
                        n_classes: int) -> list[float]:
    """The surrogate's description of any layer list, from its pre-training cost-model layers
    (``dse.design.prebuild.prebuild_layers``, no weight model).

    Globals first (``GLOBAL_FEATURES``): the number of weighted layers, log of total multiplications
    per inference (MACs, a convolution's per-pixel product times its output pixels), log of total
    weights and of non-zero weights, mean activation bits, 1 for the Resource strategy, log10 of the
    learning rate, log2 of the largest ReuseFactor. Then per weighted layer in model order
    (``LAYER_FEATURES`` each): log MACs, log weights, weight bits, sparsity (share of zero weights),
    log2 ReuseFactor, log output values."""
    from cost_models.layers import WEIGHTED_KINDS

    specs = prebuild_layers(cand, space, input_shape, n_classes)
    weighted = [s for s in specs if s.kind in WEIGHTED_KINDS]
    per_layer: list[float] = []
    macs = params = nonzero = 0.0
    for s in weighted:
        pixels = s.conv.out_pixels if s.conv is not None else 1
        n_w = float(s.n_weights)
        m = n_w * pixels
        macs, params, nonzero = macs + m, params + n_w, nonzero + n_w - s.n_zeros
        bits = float(s.weight.width) if s.weight is not None else 0.0
        per_layer += [math.log(1.0 + m), math.log(1.0 + n_w), bits, s.n_zeros / n_w if n_w else 0.0,
                      math.log2(max(1, s.reuse_factor)), math.log(1.0 + s.n_out * pixels)]
    act = [float(b) for b in cand.values("activation_bits")]
    rfs = [s.reuse_factor for s in weighted] or [1]
    return [float(len(weighted)), math.log(1.0 + macs), math.log(1.0 + params), math.log(1.0 + nonzero),
            sum(act) / len(act) if act else 0.0, float(cand.strategy == "resource"), math.log10(cand.learning_rate),
            math.log2(max(1, max(rfs))), *per_layer]


def surrogate_matrix(cands: Sequence[Candidate], space: SpaceConfig, input_shape: int | Sequence[int],
                     n_classes: int = 10) -> list[list[float]]:
    """``surrogate_features`` of each candidate, padded with 0 to the longest (one row per candidate)."""
    rows = [surrogate_features(c, space, input_shape, n_classes) for c in cands]
    width = max((len(r) for r in rows), default=0)
    return [r + [0.0] * (width - len(r)) for r in rows]


@dataclass
class PlannerStats:
    """Proposals of this session: asked of the proposer, screened, repeats skipped, not chosen, trained."""

    proposed: int = 0
    screened: int = 0
    repeats: int = 0
    not_chosen: int = 0
    trained: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class FeasibleShare:
    """Pre-training estimates of ``n_designs`` random designs of the space: the expected share (0..1) that
    the study will count as meeting every cost budget (mean over designs of the product of their verdict
    probabilities), and per cost budget (space text, e.g. ``latency_ns <= 40``) the share meeting it."""

    n_designs: int
    share: float
    per_budget: dict[str, float]

    def text(self) -> str:
        """``about 4.3 % of 256 random designs of the space are expected to meet the cost budgets, from their
        pre-training estimates (latency_ns <= 40: 4.3 %, lut <= 20000: 83 %)``."""
        parts = ", ".join(f"{name}: {_percent(v)}" for name, v in self.per_budget.items())
        return (f"about {_percent(self.share)} of {self.n_designs} random designs of the space are expected to meet "
                f"the cost budgets, from their pre-training estimates ({parts})")

    def to_dict(self) -> dict[str, Any]:
        return {"n_designs": self.n_designs, "share": round(self.share, 5),
                "per_budget": {k: round(v, 5) for k, v in self.per_budget.items()}}


def _percent(x: float) -> str:
    return "0 %" if x <= 0 else f"{100 * x:.2g} %" if x < 0.1 else f"{100 * x:.0f} %"


@dataclass
class _Option:
    trial: Any
    candidate: Candidate
    key: str
    pre: PreEstimate


class Planner:
    """Fills training slots for a driver (see the module docstring)."""

    def __init__(self, space: SpaceConfig, folder: RunFolder, searcher: Searcher, screener: Screener | None,
                 input_shape: int | Sequence[int], seed: int, n_classes: int = 10):
        self.space, self.folder, self.searcher, self.screener = space, folder, searcher, screener
        self.input_shape: InputShape = as_shape(input_shape)
        self.n_classes, self.seed = n_classes, seed
        self.stats = PlannerStats()
        self.rejected_in_a_row = 0
        self.screen = space.search.screening and any(c.metric in COST_METRICS for c in space.constraints)

    @property
    def exhausted(self) -> bool:
        return self.rejected_in_a_row >= MAX_REJECTED_IN_A_ROW

    # ------------------------------------------------------------------ the space before training
    def survey(self, n_designs: int = SURVEY_DESIGNS) -> FeasibleShare | None:
        """The feasible share of the space from pre-training estimates of ``n_designs`` random designs
        (seeded; nothing is recorded); logged, as a warning when none or a sliver is feasible. None
        without cost budgets to screen."""
        import optuna

        if self.screener is None or not self.screen:
            return None
        cost = [i for i, c in enumerate(self.space.constraints) if c.metric in COST_METRICS]
        study = optuna.create_study(directions=self.space.directions,  # type: ignore[arg-type]
                                    sampler=optuna.samplers.RandomSampler(seed=derive_seed(self.seed, 0, -1)))
        products: list[float] = []
        per: list[list[float]] = [[] for _ in cost]
        for _ in range(n_designs):
            try:
                pre = self.screener.estimate(suggest_candidate(study.ask(), self.space))
                probs = [pre.probabilities[i] for i in cost]
            except ConfigError:  # a design hls4ml cannot build for the data's shape meets no budget
                probs = [0.0 for _ in cost]
            products.append(math.prod(p for p in probs if p is not None))
            for k, p in enumerate(probs):
                per[k].append(1.0 if p is None else p)
        per_budget = {str(self.space.constraints[i]): sum(v) / len(v) for i, v in zip(cost, per, strict=True)}
        result = FeasibleShare(n_designs, sum(products) / len(products), per_budget)
        if result.share <= 0:
            log.warning("the budgets look unreachable: none of %d random designs of the space is expected to meet "
                        "them from its pre-training estimate (%s)%s", n_designs,
                        ", ".join(f"{k}: {_percent(v)}" for k, v in result.per_budget.items()),
                        self._conv_latency_hint(result))
        elif result.share < SLIVER_SHARE:
            log.warning("only a sliver of the space meets the budgets: %s", result.text())
        else:
            log.info("%s", result.text())
        return result

    def _conv_latency_hint(self, share: FeasibleShare) -> str:
        """What to search when a CNN's latency or II budget is out of reach at ParallelizationFactor 1."""
        hw = self.space.hardware
        timing = [k for k, v in share.per_budget.items() if v <= 0 and k.split()[0] in ("latency_ns", "latency_cycles",
                                                                                        "ii")]
        if (self.space.model.type != "cnn" or not timing or "io_parallel" not in hw.io_types.values()
                or max(int(v) for v in hw.parallelization_factor.values()) > 1):
            return ""
        return ("; an io_parallel convolution at ParallelizationFactor 1 takes a cycle per output pixel: search "
                "hardware.parallelization_factor (e.g. [1, 4, 16]) to compute several pixels per cycle")

    # ------------------------------------------------------------------ learning from the study
    def sync(self, trials: list[TrialView]) -> None:
        """Let the screener learn from trained trials it has not seen."""
        if self.screener is None:
            return
        from cost_models.layers import layers_from_dicts

        for t in trials:
            if t.state is not TrialState.COMPLETE or t.duplicate_of is not None or t.number in self.screener.seen:
                continue
            try:
                layers = layers_from_dicts(self.folder.read_layers(t.number))
            except (OSError, ValueError):
                self.screener.seen.add(t.number)
                continue
            cand = t.design()
            if cand is None:  # a complete trial always stores its design; nothing to learn otherwise
                self.screener.seen.add(t.number)
                continue
            self.screener.observe_trial(t.number, layers, cand, t.pre_estimate, dict(t.estimate) or None)

    # ------------------------------------------------------------------ one slot
    def propose(self, calibration: Any = None) -> Proposal | None:
        """The next design to train, asked from the stored study; None when the budgets look unreachable.
        ``calibration``: the driver's current cost-model calibration."""
        import optuna

        if self.screener is not None:
            self.screener.calibration = calibration

        if any(t.state.name == "WAITING" for t in self.searcher.trials()):
            return self.searcher.ask()  # an interrupted design queued again: it was screened before
        trials = self.searcher.trials()
        views = [trial_view(t) for t in trials]
        self.sync(views)
        twin = self._proposer(trials)
        known = set(self.searcher.designs) | {self.searcher.design_key(t.params) for t in views
                                              if t.screened is not None}
        wanted = self.space.search.proposals
        seeking = self.screen and not self.any_feasible(views)
        options: list[_Option] = []
        asks = repeats = screened_at_random = 0
        likely_only = self.screen and not seeking  # something feasible is known: train what will likely meet
        # the run has measured its pre-to-post spread: an unlikely design is screened, not kept in reserve
        strict = likely_only and self.screener is not None and len(self.screener.seen) >= TRAINED_BEFORE_STRICT
        while (sum(not likely_only or o.pre.p_all_met >= LIKELY_MET for o in options) < wanted and not self.exhausted
               and (asks < 10 * wanted + 40 or not options)):
            if options and screened_at_random >= wanted:
                break  # the sampler is stuck and random draws are screened: choose among the survivors
            trial = twin.ask()
            asks += 1
            self.stats.proposed += 1
            cand = suggest_candidate(trial, self.space)
            key = self.searcher.design_key(trial.params)
            if not self.space.search.allow_repeats and (key in known or any(o.key == key for o in options)):
                twin.tell(trial, state=optuna.trial.TrialState.FAIL)
                self.stats.repeats += 1
                self.rejected_in_a_row += 1
                repeats += 1
                if repeats == REPEATS_BEFORE_RANDOM:  # the sampler is stuck on known designs: explore at random
                    twin.sampler = optuna.samplers.RandomSampler(seed=derive_seed(self.seed, asks, len(trials)))
                    if likely_only:  # ... after the untried neighbours of the feasible designs
                        for params in self._neighbours(trials, known)[:NEIGHBOURS_PER_SLOT * wanted]:
                            twin.enqueue_trial(params)
                continue
            try:
                pre = self.screener.estimate(cand) if self.screener is not None else PreEstimate({}, {}, [])
            except ConfigError as exc:  # hls4ml cannot build it for the data's shape: never trained
                self._record_unbuildable(trial, cand, exc)
                twin.tell(trial, state=optuna.trial.TrialState.FAIL)
                known.add(key)
                self.stats.screened += 1
                self.rejected_in_a_row += 1
                continue
            threshold = self.space.search.screen_probability
            if strict and not pre.reason and pre.p_all_met < LIKELY_MET:
                threshold = LIKELY_MET
                pre = replace(pre, reason=unlikely_reason(self.space, pre))
            if pre.reason and self.screen:
                self._record_screened(trial, cand, pre, threshold)
                for name, value in self._relative(self._screen_constraints(pre, threshold)).items():
                    trial.set_constraint(name, value)
                twin.tell(trial, self._placeholder_values(pre, trials))
                screened_at_random += repeats >= REPEATS_BEFORE_RANDOM
                known.add(key)
                self.stats.screened += 1
                self.rejected_in_a_row += 1
                continue
            options.append(_Option(trial, cand, key, pre))
        if not options and strict:
            log.warning("%d proposals in a row were screened out or repeated designs: no design left that the "
                        "proposer finds is likely (P >= %g) to meet the budgets after training; stopping the search",
                        self.rejected_in_a_row, LIKELY_MET)
            return None
        if not options:
            log.warning("%d proposals in a row were screened out by the budgets or repeated designs: the budgets "
                        "look unreachable in this space; stopping the search", self.rejected_in_a_row)
            return None
        if seeking and len(options) > 1:
            options = self._closest_to_feasible(options)
        elif likely_only and len(options) > 1:  # before ``strict``: the likely ones, else the most likely
            options = [o for o in options if o.pre.p_all_met >= LIKELY_MET] or self._closest_to_feasible(
                options, "no proposal is likely to meet the budgets")
        chosen = self._choose(options, trials) if len(options) > 1 else options[0]
        self.stats.not_chosen += len(options) - 1
        self.stats.trained += 1
        self.rejected_in_a_row = 0
        attrs: dict[str, Any] = {"pre_estimate": chosen.pre.to_dict()} if chosen.pre.values else {}
        self.searcher.enqueue(chosen.trial.params, attrs)
        return self.searcher.ask()

    def _proposer(self, trials: list[Any]) -> Any:
        import optuna

        seed = derive_seed(self.seed + PROPOSER_SEED_OFFSET, self.searcher.version, len(trials))
        twin = optuna.create_study(directions=self.space.directions, sampler=make_sampler(self.space, seed))  # type: ignore[arg-type]
        frozen = []
        for t in trials:
            ua = t.user_attrs
            if t.state.name == "COMPLETE" and "duplicate_of" not in ua:
                cons = dict(t.constraints or {})
                if self.space.search.budget_confidence is None:  # margins in metric units
                    cons = self._relative(cons)
                frozen.append(optuna.trial.create_trial(params=t.params, distributions=t.distributions,
                                                        values=t.values, constraints=cons))
            elif t.state.name == "PRUNED" and "duplicate_of" not in ua:
                frozen.append(optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED, params=t.params,
                                                        distributions=t.distributions))
            elif "screened" in ua and ua.get("screen_constraints"):
                pre = ua.get("pre_estimate") or {}
                values = self._placeholder_values(PreEstimate(pre, {}, []), trials)
                frozen.append(optuna.trial.create_trial(params=t.params, distributions=t.distributions,
                                                        values=values,
                                                        constraints=self._relative(ua["screen_constraints"])))
        if frozen:
            twin.add_trials(frozen)
        return twin

    def _neighbours(self, trials: list[Any], known: set[str]) -> list[dict[str, Any]]:
        """Untried designs one step from a trained feasible one (latest first): one parameter moved to the
        next or previous of its choices (in the order the space lists them) or by one step of its range."""
        from optuna.distributions import CategoricalDistribution, IntDistribution

        out: list[dict[str, Any]] = []
        keys = set(known)
        for t in sorted(trials, key=lambda t: -t.number):
            view = trial_view(t)
            if view.state is not TrialState.COMPLETE or view.duplicate_of is not None or view.feasible is False:
                continue
            for name, dist in t.distributions.items():
                value = t.params[name]
                if isinstance(dist, CategoricalDistribution):
                    i = list(dist.choices).index(value)
                    moved = [dist.choices[j] for j in (i - 1, i + 1) if 0 <= j < len(dist.choices)]
                elif isinstance(dist, IntDistribution) and not dist.log:
                    moved = [v for v in (value - dist.step, value + dist.step) if dist.low <= v <= dist.high]
                else:
                    continue
                for v in moved:
                    params = {**t.params, name: v}
                    key = self.searcher.design_key(params)
                    if key not in keys:
                        keys.add(key)
                        out.append(params)
        return out

    def any_feasible(self, trials: list[TrialView]) -> bool:
        """True when some trained (COMPLETE) trial meets every budget, as the study judged it."""
        return any(t.state is TrialState.COMPLETE and t.duplicate_of is None and t.feasible is not False
                   for t in trials)

    def _relative(self, constraints: Mapping[str, float]) -> dict[str, float]:
        """Margins (metric units, by budget name) divided by their bounds: comparable across budgets."""
        budgets = {str(c): with_bound(c, b) for c, b in zip(self.space.constraints,
                                                             self.screener.bounds if self.screener else [],
                                                             strict=False)}
        return {name: budgets[name].relative(v) if name in budgets else float(v) for name, v in constraints.items()}

    def _closest_to_feasible(self, options: list[_Option], why: str = "no trained design meets the budgets yet"
                             ) -> list[_Option]:
        """The options most likely to meet every budget, then with the smallest relative violation of
        the budgets by their expected trained estimate (several on ties, in proposal order); ``why`` is logged."""
        bounds = self.screener.bounds if self.screener else []
        p_met = [o.pre.p_all_met for o in options]
        top = max(p_met)
        near = [i for i in range(len(options)) if p_met[i] >= top - P_MET_TIE]
        viol = {i: relative_violation(self.space, bounds, options[i].pre.values) for i in near}
        least = min(viol.values())
        kept = [options[i] for i in near if viol[i] <= least + 1e-9]
        log.info("%s: %d of %d proposals closest to them (P(all budgets met) %.3f, relative violation %.3g)",
                 why, len(kept), len(options), top, least)
        return kept

    def _screen_constraints(self, pre: PreEstimate, threshold: float | None = None) -> dict[str, float]:
        """Per budget: by how much the pre-training point breaks it (metric units, > 0 broken; 0 unknown).

        A budget whose verdict probability is below ``threshold`` (default ``search.screen_probability``)
        counts as broken (at least by 1e-9); when none is but the design was screened for its probability
        of meeting them all, the least likely budget is."""
        threshold = self.space.search.screen_probability if threshold is None else threshold
        out: dict[str, float] = {}
        margins: dict[str, tuple[float, float]] = {}
        for con, bound, p in zip(self.space.constraints, self.screener.bounds if self.screener else [],
                                 pre.probabilities, strict=False):
            key = COST_METRICS.get(con.metric)
            if p is None or key is None:
                out[str(con)] = 0.0
                continue
            margin = with_bound(con, bound).margin(pre.values[key])
            margins[str(con)] = (p, margin)
            out[str(con)] = max(margin, 1e-9) if p < threshold else min(margin, 0.0)
        if margins and pre.p_all_met < threshold and all(v <= 0 for v in out.values()):
            name = min(margins, key=lambda k: margins[k][0])
            out[name] = max(margins[name][1], 1e-9)
        return out

    def _placeholder_values(self, pre: PreEstimate, trials: list[Any]) -> list[float]:
        """Objective values for an infeasible proposer trial (not read by constrained TPE)."""
        out = []
        for i, o in enumerate(self.space.objectives):
            key = COST_METRICS.get(o.metric)
            if key is not None and pre.values.get(key) is not None:
                out.append(float(pre.values[key]))
                continue
            seen = [t.values[i] for t in trials if t.state.name == "COMPLETE" and t.values]
            worst = (min(seen) if o.direction == "maximize" else max(seen)) if seen else 0.0
            out.append(float(worst))
        return out

    def _record_screened(self, trial: Any, cand: Candidate, pre: PreEstimate, threshold: float | None = None) -> None:
        attrs = {"screened": pre.reason, "candidate": cand.to_dict(), "pre_estimate": pre.to_dict(),
                 "screen_probabilities": pre.probabilities,
                 "screen_constraints": self._screen_constraints(pre, threshold)}
        self.searcher.add_failed(trial.params, trial.distributions, attrs)
        log.info("not trained (screened): %s: %s", cand.short(), pre.reason)

    def _record_unbuildable(self, trial: Any, cand: Candidate, exc: ConfigError) -> None:
        reason = f"cannot be built for the data's input shape {self.input_shape}: {exc}"
        attrs = {"screened": reason, "candidate": cand.to_dict()}
        self.searcher.add_failed(trial.params, trial.distributions, attrs)
        log.info("not trained: %s %s", cand.short(), reason)

    # ------------------------------------------------------------------ the surrogate
    def _choose(self, options: list[_Option], trials: list[Any]) -> _Option:
        done = [t for t in trials if t.state.name == "COMPLETE" and "duplicate_of" not in t.user_attrs
                and t.values]
        if len(done) < MIN_TRIALS_FOR_SURROGATE:
            return options[0]
        gains = expected_gains(self.space, done, [(o.candidate, o.pre) for o in options], self.input_shape,
                               seed=derive_seed(self.seed, self.searcher.version, len(trials)),
                               n_classes=self.n_classes)
        best = max(range(len(options)), key=lambda i: (gains[i], -i))
        log.info("chose %s of %d proposals (expected hypervolume gain %.4g)", options[best].candidate.short(),
                 len(options), gains[best])
        return options[best]


def unlikely_reason(space: SpaceConfig, pre: PreEstimate) -> str:
    """Why a design is not trained once a trained design meets the budgets: it is less than ``LIKELY_MET``
    likely to meet them all after training. Names the least likely budget (``lut 1543 vs lut <= 1500
    (P(met) = 0.323)``) and the probability of meeting them all."""
    judged = [(p, con) for p, con in zip(pre.probabilities, space.constraints, strict=False) if p is not None]
    worst = ""
    if judged:
        p, con = min(judged, key=lambda pc: pc[0])
        key = COST_METRICS.get(con.metric)
        value = f"{con.metric} {pre.values[key]:.4g} vs " if key in pre.values else ""
        worst = f"{value}{con} (P(met) = {p:.3f}): "
    return (f"{worst}P(all budgets met after training) = {pre.p_all_met:.3f}, below the {LIKELY_MET:g} required "
            "once a trained design meets the budgets")


def relative_violation(space: SpaceConfig, bounds: list[float], values: Mapping[str, Any]) -> float:
    """How far ``values`` (cost keys: dsp, lut, latency_ns, ...) break the space's cost budgets: the sum over
    budgets of ``max(0, margin) / |bound|`` (0: every cost budget met; budgets without a value count 0)."""
    total = 0.0
    for con, bound in zip(space.constraints, bounds, strict=False):
        key = COST_METRICS.get(con.metric)
        if key is None or values.get(key) is None:
            continue
        budget = with_bound(con, bound)
        total += max(0.0, budget.relative(budget.margin(float(values[key]))))
    return total


def expected_gains(space: SpaceConfig, done: list[Any], options: list[tuple[Candidate, PreEstimate]],
                   input_shape: int | Sequence[int], seed: int, n_classes: int = 10) -> list[float]:
    """Expected hypervolume gain of each option over the feasible front of ``done`` (COMPLETE trials).

    Quality objectives are predicted by a seeded random forest on ``surrogate_features`` (one
    prediction per tree = the samples of the expectation); cost objectives are the pre-training
    point estimates. Objectives are scaled to [0, 1] over the trials and options (maximised ones
    flipped), reference 1.1. Each gain is multiplied by the probability that every screened budget
    is met."""
    import numpy as np
    from sklearn.ensemble import RandomForestRegressor

    from dse.analysis import hypervolume
    from dse.scoring.pareto import pareto_mask

    rows = surrogate_matrix([*(Candidate.from_dict(t.user_attrs["candidate"]) for t in done),
                             *(c for c, _ in options)], space, input_shape, n_classes)
    x_done, x_opt = np.array(rows[:len(done)]), np.array(rows[len(done):])
    n_obj = len(space.objectives)
    samples: list[np.ndarray] = []  # per objective: (n_options, n_samples)
    n_samples = 1
    for i, o in enumerate(space.objectives):
        key = COST_METRICS.get(o.metric)
        if key is not None:
            samples.append(np.array([[pre.values.get(key, math.nan)] for _, pre in options]))
            continue
        y = np.array([t.values[i] for t in done], dtype=float)
        forest = RandomForestRegressor(n_estimators=32, min_samples_leaf=2, random_state=seed % (2 ** 31), n_jobs=1)
        forest.fit(x_done, y)
        per_tree = np.stack([tree.predict(x_opt) for tree in forest.estimators_], axis=1)
        samples.append(per_tree)
        n_samples = max(n_samples, per_tree.shape[1])
    samples = [np.broadcast_to(s, (len(options), n_samples)) for s in samples]
    observed = np.array([t.values for t in done], dtype=float)
    lo = np.array([min(np.nanmin(observed[:, i]), np.nanmin(samples[i])) for i in range(n_obj)])
    hi = np.array([max(np.nanmax(observed[:, i]), np.nanmax(samples[i])) for i in range(n_obj)])
    span = np.where(hi > lo, hi - lo, 1.0)
    flip = np.array([o.direction == "maximize" for o in space.objectives])

    def norm(v: np.ndarray) -> np.ndarray:
        z = (v - lo) / span
        return np.where(flip, 1.0 - z, z)

    feasible = [t for t in done if all(c <= 0 for c in (t.user_attrs.get("constraint_values") or []))]
    points = [tuple(norm(np.array(t.values, dtype=float))) for t in feasible]
    # dominated points add nothing to any hypervolume: drop them once, not in every sample
    front = [p for p, keep in zip(points, pareto_mask(points, ["minimize"] * n_obj), strict=True) if keep]
    ref = [1.1] * n_obj
    base = hypervolume(front, ref) if front else 0.0
    gains = []
    for j, (_, pre) in enumerate(options):
        p_met = pre.p_all_met
        total = 0.0
        for s in range(n_samples):
            point = norm(np.array([samples[i][j, s] for i in range(n_obj)]))
            if np.any(np.isnan(point)):
                continue
            total += hypervolume([*front, tuple(point)], ref) - base
        gains.append(p_met * total / n_samples)
    return gains


def make_planner(space: SpaceConfig, folder: RunFolder, searcher: Searcher, data: Any, target: Any,
                 calibration: Any, bounds: list[float], seed: int) -> Planner | None:
    """The planner of a driver, or None when neither screening nor several proposals apply.

    Sets the searcher's design key to the normalised one when the data's sizes are known
    (``data.input_shape``, or ``data.n_features`` for a flat input, and ``data.n_classes``)."""
    shape = getattr(data, "input_shape", None)
    if shape is None and getattr(data, "n_features", None) is not None:
        shape = (int(data.n_features),)
    n_classes = getattr(data, "n_classes", None)
    if shape is None or n_classes is None:
        log.info("data sizes unknown: no pre-training estimates, designs compared by their parameters")
        return None
    shape = as_shape(shape)
    searcher.design_key = make_design_key(space, shape, int(n_classes))
    searcher.reindex()
    if not (space.search.screening and any(c.metric in COST_METRICS for c in space.constraints)) \
            and space.search.proposals <= 1:
        return None
    screener = Screener(space, shape, int(n_classes), target, calibration, bounds)
    return Planner(space, folder, searcher, screener, shape, seed, int(n_classes))
