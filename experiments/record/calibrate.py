"""Calibration of the behavioural parameters shared across negotiations, with leave-one-out.

The backtest configs (:mod:`experiments.backtest`) share one set of behavioural priors. Three
adjustments of those priors, the same in every negotiation, are fitted by minimizing the mean
CRPS of the first-year amount (in % of each negotiation's status quo, so that the SMAs weigh
alike) over the past negotiations:

``kr_position_shift`` (fraction of the status quo)
    Added to Korea's ideal and reservation increases (``kr_ideal_increase``,
    ``kr_reservation_increase``): where Korea's acceptable amounts sit. The record's first
    regularity is that the amount lands near Korea's last offer, so Korea's position is the
    first thing the first-year amount must get right.
``pressure_gain_log_scale`` (log factor)
    Multiplies ``pressure_ideal_gain`` and ``pressure_reservation_gain`` by its exponential:
    how U.S. presidential pressure maps onto the U.S. ideal and reservation points. It is
    what separates the high-pressure talks (10th, 11th SMA) from the others.
``concession_log_scale`` (log factor)
    Multiplies both sides' concession exponents (``us_concession_exponent``,
    ``kr_concession_exponent``) by its exponential, i.e. shifts the log-exponent
    distributions: Boulware (tough, late) against Conceder (early) tactics, which set when
    the zone of agreement opens and so where in it, and whether before expiry, a deal falls.

Three, because five negotiations cannot identify more: a fourth (e.g. a U.S. position shift)
would trade off against the first two. Scales enter in logs so that the search is unbounded
in sign and a step means the same relative change anywhere.

Common random numbers: each negotiation's parameter draws and noise are sampled once (its
config's seed) and every evaluation only adjusts those arrays (:func:`adjust_values`), so the
objective is a deterministic, piecewise-smooth function of the three numbers and a
derivative-free simplex search (Nelder-Mead, bounded) works on a small budget.

Leave-one-out: for each negotiation, the three numbers are fitted on the other four and the
left-out negotiation is scored with them, so the fit is never judged on its own training
data. The reported coverage is how many left-out actual first-year amounts fall inside the
90 % interval.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy.optimize import minimize
from smasim.experiments.config.load import DEFAULT_CONFIG, build_experiment, load_config, read_raw
from smasim.experiments.record.backtest import (
    CASES,
    DEFAULT_DRAWS,
    Adjust,
    BacktestResult,
    Case,
    actual_outcome,
    backtest_markdown,
    plot_backtest,
    run_backtest,
    run_case,
    write_folder,
)
from smasim.experiments.record.data import Record, load_record
from smasim.experiments.record.scores import crps_sample
from smasim.simulation.montecarlo import Experiment, batch_sizes, negotiate, sample_batch
from smasim.simulation.negotiation import DONE, Noise

DEFAULT_EVAL_DRAWS = 2_000
DEFAULT_MAX_EVALS = 40


@dataclass(frozen=True)
class Knob:
    """One calibrated number and the parameters it moves.

    Attributes
    ----------
    name : str
    description : str
    targets : tuple of str
        Model parameters (:mod:`models.parameters`) it adjusts.
    kind : {"shift", "log_scale"}
        ``shift``: ``x + theta``; ``log_scale``: ``x * exp(theta)``.
    bounds : tuple of float
        Search range of ``theta``.
    step : float
        Initial simplex step.
    unit : str
    """

    name: str
    description: str
    targets: tuple[str, ...]
    kind: Literal["shift", "log_scale"]
    bounds: tuple[float, float]
    step: float
    unit: str

    def apply(self, x: np.ndarray, theta: float) -> np.ndarray:
        """Adjusted parameter values, same shape as ``x``."""
        return x + theta if self.kind == "shift" else x * math.exp(theta)


KNOBS: tuple[Knob, ...] = (
    Knob(
        "kr_position_shift",
        "added to Korea's ideal and reservation increases",
        ("kr_ideal_increase", "kr_reservation_increase"),
        "shift",
        (-0.2, 0.5),
        0.08,
        "fraction of the status quo",
    ),
    Knob(
        "pressure_gain_log_scale",
        "log factor on how U.S. pressure raises its ideal and reservation",
        ("pressure_ideal_gain", "pressure_reservation_gain"),
        "log_scale",
        (-5.0, 1.0),
        1.0,
        "log units",
    ),
    Knob(
        "concession_log_scale",
        "log factor on both sides' concession exponents",
        ("us_concession_exponent", "kr_concession_exponent"),
        "log_scale",
        (-2.0, 2.0),
        0.7,
        "log units",
    ),
)


def adjust_values(
    values: Mapping[str, np.ndarray], theta: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """Apply calibrated numbers to a batch's sampled parameters.

    Parameters
    ----------
    values : mapping of str to ndarray, shape (n_draws,)
        Sampled parameters by name.
    theta : mapping of str to float
        Knob name -> value; knobs not given are left at 0 (no change).

    Returns
    -------
    dict of str to ndarray, shape (n_draws,)
        A new dict; ``values`` is not modified.
    """
    out = dict(values)
    for knob in KNOBS:
        t = float(theta.get(knob.name, 0.0))
        if t != 0.0:
            for name in knob.targets:
                out[name] = knob.apply(out[name], t)
    return out


def adjuster(theta: Mapping[str, float]) -> Adjust:
    """The :data:`experiments.backtest.Adjust` function of calibrated numbers ``theta``."""
    frozen = dict(theta)

    def adjust(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return adjust_values(values, frozen)

    return adjust


class Objective:
    """Mean CRPS (% of the status quo) of the first-year amount over negotiations.

    Samples each negotiation once (common random numbers) and caches the per-negotiation
    score of every parameter vector evaluated, so leave-one-out fits share evaluations.

    Parameters
    ----------
    cases : sequence of Case
    draws : int
        Draws per negotiation and evaluation.
    seed : int, optional
        One seed for every config; each config's own seed when omitted.
    record : Record, optional
    """

    def __init__(
        self,
        cases: Sequence[Case],
        *,
        draws: int,
        seed: int | None = None,
        record: Record | None = None,
    ) -> None:
        record = load_record() if record is None else record
        self.cases = tuple(cases)
        self.draws = draws
        self._samples: dict[int, tuple[Experiment, list[tuple[dict, Noise]], float]] = {}
        for case in self.cases:
            cfg = load_config(case.config)
            exp = build_experiment(cfg)
            s = cfg.experiment.seed if seed is None else seed
            batches = [
                sample_batch(exp, s, b, n) for b, n in enumerate(batch_sizes(draws, exp.batch_size))
            ]
            y = actual_outcome(record, case.sma_round).amount_bn_krw
            self._samples[case.sma_round] = (exp, batches, y)
        self._cache: dict[tuple[int, tuple[float, ...]], float] = {}
        self.evaluations = 0

    def case_score(self, sma_round: int, theta: Sequence[float]) -> float:
        """CRPS of one negotiation's first-year amount, % of its status quo."""
        key = (sma_round, tuple(float(t) for t in theta))
        if key not in self._cache:
            exp, batches, y = self._samples[sma_round]
            named = dict(zip((k.name for k in KNOBS), theta, strict=True))
            sq = exp.setting.status_quo
            first = []
            for values, noise in batches:
                out = negotiate(exp, adjust_values(values, named), noise)
                first.append(np.where(out.status == DONE, out.base, sq))
            self.evaluations += 1
            self._cache[key] = 100.0 * crps_sample(np.concatenate(first), y) / sq
        return self._cache[key]

    def __call__(self, theta: Sequence[float], rounds: Sequence[int] | None = None) -> float:
        """Mean over ``rounds`` (default: every case) of :meth:`case_score`."""
        rounds = [c.sma_round for c in self.cases] if rounds is None else rounds
        return float(np.mean([self.case_score(r, theta) for r in rounds]))


@dataclass(frozen=True)
class Fit:
    """A fit of the calibrated numbers.

    Attributes
    ----------
    parameters : dict of str to float
        Knob name -> fitted value.
    training : tuple of int
        SMA rounds fitted on.
    objective : float
        Mean CRPS of the first-year amount at the fit, % of the status quo (calibration draws).
    objective_start : float
        The same at the start (all knobs 0: the configs as written).
    evaluations : int
        Objective evaluations used.
    converged : bool
    message : str
    """

    parameters: dict[str, float]
    training: tuple[int, ...]
    objective: float
    objective_start: float
    evaluations: int
    converged: bool
    message: str


def fit_knobs(objective: Objective, rounds: Sequence[int], *, max_evals: int) -> Fit:
    """Minimize the objective over the negotiations ``rounds`` (bounded Nelder-Mead).

    Parameters
    ----------
    objective : Objective
    rounds : sequence of int
        SMA rounds to fit on.
    max_evals : int
        Budget of objective evaluations.

    Returns
    -------
    Fit
    """
    x0 = np.zeros(len(KNOBS))
    simplex = np.vstack([x0] + [x0 + k.step * np.eye(len(KNOBS))[i] for i, k in enumerate(KNOBS)])
    used = 0

    def f(theta: np.ndarray) -> float:
        nonlocal used
        used += 1
        return objective(theta, rounds)

    start = objective(x0, rounds)
    res = minimize(
        f,
        x0,
        method="Nelder-Mead",
        bounds=[k.bounds for k in KNOBS],
        options={
            "maxfev": max_evals,
            "initial_simplex": simplex,
            "xatol": 1e-3,
            "fatol": 1e-3,
        },
    )
    return Fit(
        parameters={k.name: float(v) for k, v in zip(KNOBS, res.x, strict=True)},
        training=tuple(rounds),
        objective=float(res.fun),
        objective_start=start,
        evaluations=used,
        converged=bool(res.success),
        message=str(res.message),
    )


@dataclass(frozen=True)
class CalibrationResult:
    """A calibration with its leave-one-out check.

    Attributes
    ----------
    fit : Fit
        Fitted on every negotiation.
    uncalibrated : BacktestResult
        The configs as written (score draws).
    in_sample : BacktestResult
        Every negotiation scored with ``fit`` (its own training data).
    loo_fits : tuple of Fit
        One per left-out negotiation, fitted on the others.
    loo : BacktestResult or None
        Each negotiation scored with the fit that left it out; None if not run.
    eval_draws, score_draws, max_evals : int
    elapsed_s : float
    """

    fit: Fit
    uncalibrated: BacktestResult
    in_sample: BacktestResult
    loo_fits: tuple[Fit, ...]
    loo: BacktestResult | None
    eval_draws: int
    score_draws: int
    max_evals: int
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready result."""
        return {
            "knobs": [
                {
                    "name": k.name,
                    "description": k.description,
                    "targets": list(k.targets),
                    "kind": k.kind,
                    "bounds": list(k.bounds),
                    "unit": k.unit,
                }
                for k in KNOBS
            ],
            "fit": self.fit.__dict__,
            "eval_draws_per_negotiation": self.eval_draws,
            "score_draws_per_negotiation": self.score_draws,
            "max_evals": self.max_evals,
            "elapsed_s": round(self.elapsed_s, 3),
            "uncalibrated": self.uncalibrated.to_dict(),
            "in_sample": self.in_sample.to_dict(),
            "leave_one_out_fits": [f.__dict__ for f in self.loo_fits],
            "leave_one_out": None if self.loo is None else self.loo.to_dict(),
        }


def calibrate(
    *,
    cases: Sequence[Case] = CASES,
    eval_draws: int = DEFAULT_EVAL_DRAWS,
    max_evals: int = DEFAULT_MAX_EVALS,
    score_draws: int = DEFAULT_DRAWS,
    seed: int | None = None,
    leave_one_out: bool = True,
    out: str | Path | None = None,
) -> CalibrationResult:
    """Fit the shared behavioural numbers (:data:`KNOBS`) and check them by leave-one-out.

    Parameters
    ----------
    cases : sequence of Case
        Negotiations (default: all five).
    eval_draws : int
        Draws per negotiation in each objective evaluation (common random numbers).
    max_evals : int
        Objective evaluations per fit (one fit on all, one per left-out negotiation).
    score_draws : int
        Draws per negotiation for the reported scores.
    seed : int, optional
        One seed for every config; each config's own when omitted.
    leave_one_out : bool
        Also run the leave-one-out fits.
    out : path, optional
        Folder for ``calibration.json``, ``calibration.md`` and ``calibration.png``.

    Returns
    -------
    CalibrationResult
    """
    for name, v in (
        ("eval_draws", eval_draws),
        ("max_evals", max_evals),
        ("score_draws", score_draws),
    ):
        if v < 1:
            raise ValueError(f"{name}: must be a positive integer, got {v}")
    if leave_one_out and len(cases) < 2:
        raise ValueError("leave-one-out needs at least two negotiations")
    start = time.perf_counter()
    record = load_record()
    objective = Objective(cases, draws=eval_draws, seed=seed, record=record)
    rounds = [c.sma_round for c in cases]
    fit = fit_knobs(objective, rounds, max_evals=max_evals)
    score = {"cases": cases, "draws": score_draws, "seed": seed}
    uncal = replace(run_backtest(**score), label="as written")
    inside = replace(
        run_backtest(**score, adjust=adjuster(fit.parameters)),
        adjustment=fit.parameters,
        label="calibrated, in-sample",
    )
    loo_fits: list[Fit] = []
    loo = None
    if leave_one_out:
        rows = []
        for case in cases:
            f = fit_knobs(
                objective, [r for r in rounds if r != case.sma_round], max_evals=max_evals
            )
            loo_fits.append(f)
            rows.append(
                run_case(
                    case, draws=score_draws, seed=seed, adjust=adjuster(f.parameters), record=record
                )
            )
        loo = BacktestResult(tuple(rows), score_draws, 0.0, {}, "calibrated, leave-one-out")
    result = CalibrationResult(
        fit=fit,
        uncalibrated=uncal,
        in_sample=inside,
        loo_fits=tuple(loo_fits),
        loo=loo,
        eval_draws=eval_draws,
        score_draws=score_draws,
        max_evals=max_evals,
        elapsed_s=time.perf_counter() - start,
    )
    if out is not None:
        write_calibration(result, out)
    return result


def calibration_markdown(result: CalibrationResult) -> str:
    """The fitted numbers, the leave-one-out fits and the backtest tables as Markdown."""
    lines = [
        f"Fitted on {len(result.fit.training)} negotiations "
        f"({result.fit.evaluations} evaluations of {result.eval_draws:,} draws each; "
        f"mean CRPS {result.fit.objective_start:.2f}% -> {result.fit.objective:.2f}% of the "
        "status quo):",
        "",
        "| parameter | fitted | unit | what it does |",
        "|---|---:|---|---|",
    ]
    for k in KNOBS:
        lines.append(
            f"| `{k.name}` | {result.fit.parameters[k.name]:+.3f} | {k.unit} | {k.description} |"
        )
    if result.loo_fits:
        lines += [
            "",
            "Leave-one-out fits (each on the other negotiations):",
            "",
            "| left out | "
            + " | ".join(f"`{k.name}`" for k in KNOBS)
            + " | training CRPS (% of status quo) |",
            "|---|" + "---:|" * len(KNOBS) + "---:|",
        ]
        for row, f in zip(result.loo.rows, result.loo_fits, strict=True):
            vals = " | ".join(f"{f.parameters[k.name]:+.3f}" for k in KNOBS)
            lines.append(f"| {row.case.label} | {vals} | {f.objective:.2f}% |")
    parts = [result.uncalibrated, result.in_sample] + ([result.loo] if result.loo else [])
    for part in parts:
        lines += ["", f"### {part.label}", "", backtest_markdown(part).rstrip()]
    return "\n".join(lines) + "\n"


def write_calibration(result: CalibrationResult, out: str | Path) -> Path:
    """Write ``calibration.json``, ``calibration.md`` and ``calibration.png`` atomically."""
    second = result.loo if result.loo else result.in_sample
    title = (
        f"Backtest of smasim on the 7th-12th SMA: configs as written, {second.label} "
        f"({result.score_draws:,} draws each)"
    )
    files = {
        "calibration.json": lambda p: p.write_text(
            json.dumps(result.to_dict(), indent=2, default=str) + "\n"
        ),
        "calibration.md": lambda p: p.write_text(calibration_markdown(result)),
        "calibration.png": lambda p: plot_backtest([result.uncalibrated, second], p, title=title),
    }
    return write_folder(out, files)


def calibrated_config_text(
    parameters: Mapping[str, float], *, base: str = DEFAULT_CONFIG, name: str | None = None
) -> str:
    """A config extending the bundled config ``base`` with the calibrated numbers applied.

    Each adjusted parameter is rewritten from ``base``'s value: a constant or each choice
    moved directly, a distribution through its ``loc`` (shift) or ``loc`` and ``scale``
    (scale), which is exact for the location-scale families of :mod:`scipy.stats`.

    Parameters
    ----------
    parameters : mapping of str to float
        Knob name -> value (e.g. :attr:`Fit.parameters`).
    base : str
        Bundled config to extend.
    name : str, optional
        Experiment name of the new config (default: ``BASE_calibrated``).

    Returns
    -------
    str
        TOML text.
    """
    raw, _ = read_raw(base)
    params = raw["parameters"]
    lines = [
        f"# {base} with the behavioural parameters calibrated on the SMA backtest",
        "# (smasim calibrate; see the README's section on the record and the backtest):",
    ]
    lines += [f"#   {k.name} = {parameters.get(k.name, 0.0):+.6f} ({k.unit}): {k.description}"
              for k in KNOBS]  # fmt: skip
    lines += [
        "",
        "[experiment]",
        f'extends = "{base}"',
        f'name = "{name or base + "_calibrated"}"',
        f'description = "{base}, behavioural parameters calibrated on the 7th-12th SMA backtest"',
        "",
        "[parameters]",
    ]
    for knob in KNOBS:
        t = float(parameters.get(knob.name, 0.0))
        for target in knob.targets:
            lines.append(f"{target} = {_toml(_adjust_spec(params[target], knob, t))}")
    return "\n".join(lines) + "\n"


def write_calibrated_config(
    parameters: Mapping[str, float], path: str | Path, *, base: str = DEFAULT_CONFIG
) -> Path:
    """Write :func:`calibrated_config_text` to ``path`` after checking it loads."""
    from smasim.experiments.config.load import validate

    path = Path(path)
    text = calibrated_config_text(parameters, base=base, name=path.stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        validate(read_raw(tmp)[0])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _adjust_spec(value: Any, knob: Knob, t: float) -> Any:
    if isinstance(value, int | float):
        return float(knob.apply(np.float64(value), t))
    if "choices" in value:
        return {**value, "choices": [float(knob.apply(np.float64(c), t)) for c in value["choices"]]}
    out = dict(value)
    loc, scale = float(value.get("loc", 0.0)), float(value.get("scale", 1.0))
    if knob.kind == "shift":
        out["loc"] = loc + t
    else:
        out["loc"], out["scale"] = loc * math.exp(t), scale * math.exp(t)
    return out


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(round(float(value), 8))
