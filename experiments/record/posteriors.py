"""The bundled posteriors: each forecasting config's calibration, fitted only on its past.

For each calibrated config (:data:`CALIBRATED`), the shared behavioural parameters are fitted
(:func:`experiments.record.bayes.fit`) on the backtest negotiations concluded before the
config's information date, and ``rows`` joint draws are resampled from the fit into
``experiments/config/posteriors/NAME.parquet`` with the calibration's provenance: method,
negotiations fitted on, information date, date fitted, draws, seed, effective sample size,
bandwidth, the prior each parameter was fitted under, and the study's out-of-sample scores.

Regenerate after a change to the model or the record::

    python -m smasim.experiments.record.posteriors
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from smasim.experiments.config.load import build_experiment, load_config
from smasim.experiments.record.abc import systematic_resample
from smasim.experiments.record.bayes import TARGET_ESS, evaluate, fit
from smasim.experiments.record.data import load_record
from smasim.experiments.record.forecast import CASES
from smasim.experiments.record.prior_runs import run_cases, shared_parameters
from smasim.experiments.record.study import DEFAULT_DRAWS, DEFAULT_SEED
from smasim.simulation.posterior import write_posterior

CALIBRATED = ("sma12_may2024", "today_reopening", "sma13_2029")
"""Forecasting configs with a bundled posterior of the same name (configs that extend them,
e.g. the pressure variants of the 12th SMA, inherit it)."""

ROWS = 4_000
METHOD = "kernel ABC, importance sampling over common prior draws"


def fitted_on(information_date: dt.date, concluded: dict[int, dt.date]) -> tuple[int, ...]:
    """The backtest negotiations a forecast made on ``information_date`` may learn from."""
    return tuple(k for k, day in sorted(concluded.items()) if day < information_date)


def write_bundled_posteriors(
    directory: str | Path,
    *,
    configs: Sequence[str] = CALIBRATED,
    draws: int = DEFAULT_DRAWS,
    seed: int = DEFAULT_SEED,
    target_ess: float = TARGET_ESS,
    rows: int = ROWS,
) -> list[Path]:
    """Fit and write each config's posterior into ``directory``; returns the files."""
    record = load_record()
    theta, runs = run_cases(CASES, record, draws=draws, seed=seed)
    priors = {
        s.name: s.prior_key()
        for s in shared_parameters([build_experiment(load_config(c.config)) for c in CASES])
    }
    scores = {}
    for scheme in ("loo", "time"):
        result, _ = evaluate(runs, record, scheme, seed=seed, target_ess=target_ess)
        scores[f"{scheme}_mean_crps_pct_of_status_quo"] = result.summary()["model"][
            "mean_crps_pct_of_status_quo"
        ]
    concluded = {r.case.sma_round: r.actual.concluded for r in runs}
    written = []
    for name in configs:
        info = load_config(name).experiment.information_date
        posterior = fit(runs, fitted_on(info, concluded), target_ess=target_ess)
        picked = systematic_resample(posterior.weights, rows, np.random.default_rng(seed))
        provenance = {
            "method": METHOD,
            "config": name,
            "information_date": info.isoformat(),
            "fitted_on": list(posterior.fitted_on),
            "fitted": dt.date.today().isoformat(),
            "draws": draws,
            "seed": seed,
            "target_ess": target_ess,
            "ess": posterior.ess,
            "bandwidth": posterior.bandwidth,
            "rows": rows,
            "priors": priors,
            "study_scores": scores,
        }
        columns = {k: v[picked] for k, v in theta.items()}
        written.append(write_posterior(Path(directory) / f"{name}.parquet", columns, provenance))
    return written


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    here = Path(__file__).resolve().parents[1] / "config" / "posteriors"
    for path in write_bundled_posteriors(here):
        print(path)
