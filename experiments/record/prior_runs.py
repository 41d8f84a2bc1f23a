"""Every past negotiation run on one common set of prior draws of the shared parameters.

The backtest configs share the model's behavioural priors (concession, curvature, weights,
positions, pressure gains: the parameters whose distribution is the same in every config)
and differ in the context of their time (pressure index, threat, macro series, calendar).
For the Bayesian calibration (:mod:`experiments.record.bayes`), draw ``i`` must stand for the
same behavioural parameters in every negotiation: the shared parameters are sampled once
(:func:`shared_draws`) and put into every negotiation's batches, while the context and the
model's own noise come from each config as in a plain run. One run per negotiation then
serves every fit and every evaluation, which only reweight the draws (common random numbers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from smasim.experiments.config.load import build_experiment, load_config
from smasim.experiments.record.abc import systematic_resample
from smasim.experiments.record.data import Record
from smasim.experiments.record.forecast import (
    DURATIONS,
    RULE_KINDS,
    Actual,
    Case,
    Forecast,
    actual_outcome,
)
from smasim.simulation.montecarlo import batch_rng, batch_sizes, negotiate, sample_batch
from smasim.simulation.outcomes import outcome_columns
from smasim.simulation.records import Experiment
from smasim.simulation.sampling import ParameterSpec, sample


@dataclass(frozen=True)
class CaseRuns:
    """One negotiation run on the common draws: what each draw predicts, and what happened.

    Attributes
    ----------
    case : Case
    information_date : datetime.date
    actual : Actual
    first_year_bn_krw : ndarray, shape (n,)
        First-year amount (the status quo where no agreement), bn KRW.
    duration : ndarray of int, shape (n,)
        Term in years; 0 where no agreement.
    rule_kind : ndarray of str, shape (n,)
        Rule kind of agreements of 2+ years; ``""`` otherwise.
    """

    case: Case
    information_date: dt.date
    actual: Actual
    first_year_bn_krw: np.ndarray
    duration: np.ndarray
    rule_kind: np.ndarray

    def errors_pct(self) -> np.ndarray:
        """Simulated minus actual first-year amount, % of the status quo, shape (n,)."""
        sq = self.actual.status_quo_bn_krw
        return 100.0 * (self.first_year_bn_krw - self.actual.amount_bn_krw) / sq

    def mismatches(self) -> np.ndarray:
        """How many of term and rule each draw gets wrong (0-2), shape (n,).

        A one-year actual term has no rule: only the term is compared. A draw without an
        agreement gets both wrong.
        """
        a = self.actual
        wrong = (self.duration != a.duration_years).astype(np.int64)
        if a.rule_kind is not None:
            wrong += self.rule_kind != a.rule_kind
        return wrong

    def forecast(self, weights: np.ndarray | None, size: int, seed: int) -> Forecast:
        """The forecast of the draws under ``weights`` (None: the prior, every draw alike).

        The first-year sample is ``size`` draws resampled systematically by weight; the term
        and rule probabilities are the weighted frequencies among agreements.
        """
        n = self.first_year_bn_krw.size
        w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, dtype=float)
        picked = systematic_resample(w, size, np.random.default_rng(seed))
        agreed = self.duration > 0
        w_agreed = w * agreed
        total = w_agreed.sum()
        multi = w * (self.duration >= 2)
        total_multi = multi.sum()
        return Forecast(
            first_year_bn_krw=self.first_year_bn_krw[picked],
            duration_probs={
                d: float(w_agreed[self.duration == d].sum() / total) if total > 0 else 0.0
                for d in DURATIONS
            },
            rule_probs={
                k: float(multi[self.rule_kind == k].sum() / total_multi) for k in RULE_KINDS
            }
            if total_multi > 0
            else {},
            p_agreement=float(total),
        )


def shared_parameters(experiments: Sequence[Experiment]) -> tuple[ParameterSpec, ...]:
    """The uncertain parameters drawn from the same distribution in every experiment."""
    keyed = [{s.name: s.prior_key() for s in e.specs} for e in experiments]
    first = experiments[0]
    return tuple(
        s
        for s in first.specs
        if s.uncertain
        if all(k.get(s.name) == keyed[0][s.name] for k in keyed[1:])
    )


def shared_draws(specs: Sequence[ParameterSpec], draws: int, seed: int) -> dict[str, np.ndarray]:
    """``draws`` joint draws of the shared parameters (Latin hypercube), shape (draws,) each."""
    values, _ = sample(list(specs), draws, design="lhs", n_attempts=1, rng=batch_rng(seed, 0))
    return {s.name: values[s.name] for s in specs}


def run_cases(
    cases: Sequence[Case],
    record: Record,
    *,
    draws: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[dict[str, np.ndarray], list[CaseRuns]]:
    """Run every negotiation on common draws of the shared parameters.

    Returns
    -------
    theta : dict of str to ndarray, shape (draws,)
        The shared parameters' draws.
    runs : list of CaseRuns
        One per case, in order.
    """
    configs = [load_config(c.config) for c in cases]
    experiments = [build_experiment(cfg) for cfg in configs]
    theta = shared_draws(shared_parameters(experiments), draws, seed)
    runs = []
    for case, cfg, experiment in zip(cases, configs, experiments, strict=True):
        runs.append(_run_case(case, cfg.experiment, experiment, theta, record, progress))
    return theta, runs


def _run_case(case, settings, experiment, theta, record, progress) -> CaseRuns:
    draws = next(iter(theta.values())).size
    first, duration, kind = [], [], []
    kinds = np.array([r.kind for r in experiment.setting.packages.rules])
    start = 0
    for b, size in enumerate(batch_sizes(draws, experiment.batch_size)):
        values, noise = sample_batch(experiment, settings.seed, b, size)
        for name, x in theta.items():
            values[name] = x[start : start + size]
        cols = outcome_columns(experiment, values, noise, negotiate(experiment, values, noise))
        agreed = cols["outcome"] <= 1
        first.append(np.where(agreed, cols["base_bn_krw"], experiment.setting.status_quo))
        dur = np.where(agreed, cols["duration_years"], 0)
        duration.append(dur)
        kind.append(np.where(dur >= 2, kinds[np.maximum(cols["rule_index"], 0)], ""))
        start += size
        if progress is not None:
            progress(size)
    return CaseRuns(
        case=case,
        information_date=settings.information_date,
        actual=actual_outcome(record, case.sma_round),
        first_year_bn_krw=np.concatenate(first),
        duration=np.concatenate(duration).astype(np.int64),
        rule_kind=np.concatenate(kind),
    )
