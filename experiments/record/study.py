"""The calibration study behind ``smasim calibrate``: fit, both evaluations, report, files.

One run of every past negotiation on common prior draws
(:func:`experiments.record.prior_runs.run_cases`), then by reweighting
(:mod:`experiments.record.bayes`): the fit on every negotiation with its posterior marginals,
the configs as written (the prior), leave-one-out and time-respecting forecasts, each scored
beside the baselines. :func:`run_study` returns a :class:`Study` and, with ``out``, writes
``calibration.json`` and ``calibration.md`` into one folder atomically.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smasim.experiments.record.bayes import (
    TARGET_ESS,
    Posterior,
    evaluate,
    fit,
    marginals,
)
from smasim.experiments.record.data import load_record
from smasim.experiments.record.defaults import STUDY_DRAWS, STUDY_SEED
from smasim.experiments.record.forecast import CASES, Case
from smasim.experiments.record.prior_runs import run_cases
from smasim.experiments.record.report import baseline_markdown
from smasim.experiments.record.results import BacktestResult
from smasim.experiments.runs.folders import require_empty, write_folder

DEFAULT_DRAWS = STUDY_DRAWS
DEFAULT_SEED = STUDY_SEED


@dataclass(frozen=True)
class Study:
    """A calibration on the record with its evaluations.

    Attributes
    ----------
    draws, seed : int
        Common prior draws per negotiation, and their seed.
    target_ess : float
    posterior : Posterior
        The fit on every negotiation.
    marginals : list of dict
        Prior and posterior quantiles of each shared parameter (see
        :func:`experiments.record.bayes.marginals`).
    results : dict of str to BacktestResult
        ``prior`` (the configs as written), ``loo`` and ``time`` (time-respecting).
    fits : dict of str to list of Posterior
        The fit behind each scored negotiation, per scheme.
    elapsed_s : float
    """

    draws: int
    seed: int
    target_ess: float
    posterior: Posterior
    marginals: list[dict]
    results: dict[str, BacktestResult]
    fits: dict[str, list[Posterior]]
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready study."""

        def fit_dict(f: Posterior) -> dict[str, Any]:
            return {"fitted_on": list(f.fitted_on), "ess": f.ess, "bandwidth": _num(f.bandwidth)}

        return {
            "method": "kernel ABC, importance sampling over common prior draws",
            "draws_per_negotiation": self.draws,
            "seed": self.seed,
            "target_ess": self.target_ess,
            "elapsed_s": round(self.elapsed_s, 3),
            "posterior": {**fit_dict(self.posterior), "marginals": self.marginals},
            "evaluations": {
                scheme: {
                    **result.to_dict(),
                    "fits": [fit_dict(f) for f in self.fits[scheme]],
                }
                for scheme, result in self.results.items()
            },
        }


def run_study(
    *,
    cases: Sequence[Case] = CASES,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    target_ess: float = TARGET_ESS,
    out: str | Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> Study:
    """Run the calibration study (see the module notes).

    Parameters
    ----------
    cases : sequence of Case
    draws : int
        Common prior draws, simulated once per negotiation.
    seed : int
        Seed of the shared parameters' draws (each negotiation's context and noise use its
        config's seed).
    target_ess : float
        Effective draws each fit keeps; less than ``draws``.
    out : path, optional
        Folder for ``calibration.json`` and ``calibration.md`` (must not exist or be empty).
    progress : callable, optional
        Called with the number of draws simulated after each batch
        (``len(cases) * draws`` in all).

    Raises
    ------
    ValueError
        If ``draws``, ``seed`` or ``target_ess`` is out of range (the message names it).
    """
    if draws < 2:
        raise ValueError(f"draws: must be at least 2, got {draws}")
    if seed < 0:
        raise ValueError(f"seed: must be non-negative, got {seed}")
    if not 1 <= target_ess < draws:
        raise ValueError(f"target_ess: must be in [1, draws), got {target_ess}")
    if out is not None:
        require_empty(out)
    start = time.perf_counter()
    record = load_record()
    theta, runs = run_cases(cases, record, draws=draws, seed=seed, progress=progress)
    posterior = fit(runs, [c.sma_round for c in cases], target_ess=target_ess)
    results, fits = {}, {}
    for scheme in ("prior", "loo", "time"):
        results[scheme], fits[scheme] = evaluate(
            runs, record, scheme, seed=seed, target_ess=target_ess
        )
    study = Study(
        draws=draws,
        seed=seed,
        target_ess=target_ess,
        posterior=posterior,
        marginals=marginals(theta, posterior),
        results=results,
        fits=fits,
        elapsed_s=time.perf_counter() - start,
    )
    if out is not None:
        write_folder(
            out,
            {
                "calibration.json": lambda p: p.write_text(
                    json.dumps(study.to_dict(), indent=2) + "\n"
                ),
                "calibration.md": lambda p: p.write_text(study_markdown(study)),
            },
        )
    return study


def study_markdown(study: Study) -> str:
    """The study as Markdown: scores beside the baselines, per-negotiation fits, marginals."""
    lines = [
        f"Calibration by kernel ABC on {study.draws:,} common prior draws per negotiation "
        f"(target effective sample size {study.target_ess:,.0f}; {study.elapsed_s:.1f} s).",
        "",
    ]
    for scheme in ("prior", "loo", "time"):
        lines += [*baseline_markdown(study.results[scheme], explain=scheme == "prior"), ""]
    lines += [
        "Each negotiation's forecast: what its fit learned from, effective draws, PIT and "
        "CRPS (% of the status quo).",
        "",
        "| SMA | actual (bn KRW) | leave-one-out: PIT, CRPS, ESS | time-respecting: fitted on, "
        "PIT, CRPS, ESS | as written: PIT, CRPS |",
        "|---|---:|---:|---:|---:|",
    ]
    rows = zip(*(study.results[s].rows for s in ("loo", "time", "prior")), strict=True)
    for i, (loo, tr, prior) in enumerate(rows):
        f_loo, f_time = study.fits["loo"][i], study.fits["time"][i]
        learned = ", ".join(str(k) for k in f_time.fitted_on) or "none (prior)"
        lines.append(
            f"| {loo.case.label} | {loo.actual.amount_bn_krw:,.1f} "
            f"| {loo.model.pit:.2f}, {loo.model.crps_pct:.2f} %, {f_loo.ess:,.0f} "
            f"| {learned}: {tr.model.pit:.2f}, {tr.model.crps_pct:.2f} %, {f_time.ess:,.0f} "
            f"| {prior.model.pit:.2f}, {prior.model.crps_pct:.2f} % |"
        )
    lines += [
        "",
        f"Posterior of the shared parameters, fitted on every negotiation (ESS "
        f"{study.posterior.ess:,.0f}): prior and posterior 5-50-95 % quantiles, the posterior "
        "90 % interval's width over the prior's, and whether the record moved it.",
        "",
        "| parameter | prior 5-50-95 % | posterior 5-50-95 % | width ratio | identified |",
        "|---|---:|---:|---:|---|",
    ]
    for m in study.marginals:
        lines.append(
            f"| {m['name']} | {_q(m['prior_q05_q50_q95'])} | {_q(m['posterior_q05_q50_q95'])} "
            f"| {m['width_ratio']:.2f} | {'yes' if m['identified'] else 'no: prior = posterior'} |"
        )
    return "\n".join(lines) + "\n"


def _q(v: Sequence[float]) -> str:
    return " / ".join(f"{x:.3g}" for x in v)


def _num(x: float) -> float | None:
    return None if x != x else float(x)  # NaN as null
