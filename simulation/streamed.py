"""The summary of a run too large to hold in memory: exact, from its parts, one batch at a time.

:func:`summarize_batches` returns what :func:`simulation.outcomes.summarize` returns for the
whole per-draw table, bit for bit, while holding only one batch of it (plus histograms of
fixed size). It reads the batches several times, always in batch order, so the result does
not depend on how many workers wrote them:

* pass 0 counts (probabilities, shares, population sizes), sums the amounts for their means
  and histograms the top 16 bits of every value a quantile is taken of;
* passes 1-3 narrow each needed order statistic down by the next 16 bits of its sort key
  (radix selection), counting only, until the exact value is known (no pass is made for a
  statistic already pinned down).

Quantiles are then formed from the same order statistics, by the same formulas, as numpy's
``percentile``, ``quantile`` and ``median`` (``method="linear"`` / ``"nearest"``), and the
means from numpy's own pairwise summation tree (:class:`PairwiseSum`), so they equal numpy's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from smasim.simulation.outcomes import _calibration
from smasim.simulation.records import OUTCOMES, Experiment

Batches = Callable[[tuple[str, ...]], Iterator[dict[str, np.ndarray]]]
"""Given column names, a fresh iterator over the run's batches (those columns), in order."""

QS = (5, 25, 50, 75, 95)
LEAF = 1 << 16  # pairwise-summation subtrees summed by numpy itself (memory: LEAF floats)
_SIGN = np.uint64(1 << 63)
_DIGIT = 16  # bits per radix pass
_COUNTED = ("outcome", "lapse_months", "vetoes", "ratification_rejections")


class PairwiseSum:
    """``np.sum`` of ``n`` float64 values fed in consecutive chunks, bit for bit.

    numpy sums a contiguous float64 array by a fixed tree: a node of ``m > 128`` values splits
    at ``m // 2`` rounded down to a multiple of 8 (its 8-way unrolled leaves). Subtrees of at
    most :data:`LEAF` values are summed by numpy itself as their values arrive; the tree
    above them is added up here in numpy's order.
    """

    def __init__(self, n: int, leaf: int | None = None) -> None:
        # numpy sums nodes of up to 128 values without splitting them: never split those
        self._n, self._leaf = n, max(leaf or LEAF, 128)
        self._stops: list[int] = []
        self._split(0, n)
        self._sums: list[float] = []
        self._pending = np.empty(0)
        self._start = 0  # index of the first pending value

    def _split(self, start: int, m: int) -> None:
        if m <= self._leaf:
            self._stops.append(start + m)
            return
        half = m // 2 - (m // 2) % 8
        self._split(start, half)
        self._split(start + half, m - half)

    def add(self, x: np.ndarray) -> None:
        """Feed the next values."""
        self._pending = np.concatenate([self._pending, x]) if self._pending.size else x
        while len(self._sums) < len(self._stops):
            take = self._stops[len(self._sums)] - self._start
            if take > self._pending.size:
                break
            self._sums.append(np.add.reduce(self._pending[:take]))
            self._pending, self._start = self._pending[take:], self._start + take

    def total(self) -> float:
        """The sum, once all ``n`` values are fed."""
        sums = iter(self._sums)

        def node(m: int):
            if m <= self._leaf:
                return next(sums)
            half = m // 2 - (m // 2) % 8
            return node(half) + node(m - half)

        return float(node(self._n)) if self._n else 0.0


def _keys(x: np.ndarray) -> np.ndarray:
    """Unsigned keys sorting as ``x`` does (float64 without NaN, or int64)."""
    if x.dtype.kind == "f":
        bits = np.ascontiguousarray(x, dtype=np.float64).view(np.uint64)
        return np.where(bits >> np.uint64(63), ~bits, bits | _SIGN)
    return np.ascontiguousarray(x, dtype=np.int64).view(np.uint64) ^ _SIGN


def _value(key: int, kind: str):
    k = np.uint64(key)
    if kind == "f":
        bits = k & ~_SIGN if k & _SIGN else ~k
        return np.array([bits], dtype=np.uint64).view(np.float64)[0]
    return np.array([k ^ _SIGN], dtype=np.uint64).view(np.int64)[0]


class Selection:
    """Exact order statistics (0-based ranks) of values fed in chunks, by radix passes."""

    def __init__(self, kind: str) -> None:
        self.kind, self.size = kind, 0
        self._hist = np.zeros(1 << _DIGIT, dtype=np.int64)  # pass 0: top digit of every value
        self._depth = 0
        self._targets: dict[int, list[int]] = {}  # rank -> [prefix, rank within the prefix]
        self._groups = np.empty(0, dtype=np.uint64)  # prefixes being narrowed, sorted
        self._extremes: dict[int, list[int]] = {}

    def add(self, x: np.ndarray) -> None:
        """Pass 0: count and histogram."""
        self.size += x.size
        self._hist += np.bincount((_keys(x) >> np.uint64(64 - _DIGIT)).astype(np.intp),
                                  minlength=1 << _DIGIT)  # fmt: skip

    def want(self, ranks) -> None:
        """Ask for these ranks (after pass 0)."""
        for r in ranks:
            self._targets.setdefault(int(r), [0, int(r)])
        self._narrow([self._hist])

    @property
    def done(self) -> bool:
        """Every rank asked for is known."""
        return self._depth >= 64 or not self._groups.size

    def start_pass(self) -> None:
        """Begin a pass over the values (:meth:`feed` each chunk, then :meth:`end_pass`)."""
        g = self._groups.size
        self._pass = np.zeros(g << _DIGIT, dtype=np.int64)
        self._lo = np.full(g, np.iinfo(np.uint64).max, dtype=np.uint64)
        self._hi = np.zeros(g, dtype=np.uint64)

    def feed(self, x: np.ndarray) -> None:
        """Passes 1-3: histogram the next digit of the values in the prefixes narrowed to."""
        keys = _keys(x)
        prefix = keys >> np.uint64(64 - self._depth)
        at = np.minimum(np.searchsorted(self._groups, prefix), self._groups.size - 1)
        inside = self._groups[at] == prefix
        keys, at = keys[inside], at[inside]
        if not keys.size:
            return
        shift = np.uint64(64 - self._depth - _DIGIT)
        digit = ((keys >> shift) & np.uint64((1 << _DIGIT) - 1)).astype(np.intp)
        np.add.at(self._pass, (at << _DIGIT) + digit, 1)  # no temporary of the histogram's size
        np.minimum.at(self._lo, at, keys)
        np.maximum.at(self._hi, at, keys)

    def end_pass(self) -> None:
        """Narrow each rank down by the digit the pass counted."""
        g = self._groups.size
        hists = list(self._pass.reshape(g, 1 << _DIGIT))
        for i, p in enumerate(self._groups.tolist()):
            if self._lo[i] == self._hi[i]:  # one value fills the prefix: it is the answer
                for t in self._targets.values():
                    if t[0] == p and len(t) == 2:
                        t.append(int(self._lo[i]))
        self._narrow(hists)

    def _narrow(self, hists) -> None:
        index = {p: i for i, p in enumerate(self._groups.tolist())} if self._depth else {0: 0}
        for t in self._targets.values():
            if len(t) == 3:
                continue
            cum = np.cumsum(hists[index[t[0]]])
            d = int(np.searchsorted(cum, t[1], side="right"))
            t[1] -= int(cum[d - 1]) if d else 0
            t[0] = (t[0] << _DIGIT) | d
        self._depth += _DIGIT
        if self._depth >= 64:
            for t in self._targets.values():
                if len(t) == 2:
                    t.append(t[0])
        open_ = {t[0] for t in self._targets.values() if len(t) == 2}
        self._groups = np.array(sorted(open_), dtype=np.uint64)

    def value(self, rank: int):
        """The value of rank ``rank`` (once :attr:`done`)."""
        return _value(self._targets[int(rank)][2], self.kind)


def _linear(sel: Selection, q: np.ndarray) -> np.ndarray:
    """``np.quantile(x, q)`` (linear) of the selection's values (numpy's own steps)."""
    n = sel.size
    virtual = (n - 1) * q
    prev, nxt = _linear_ranks(n, q)
    a = np.array([sel.value(i) for i in prev], dtype=np.float64)
    b = np.array([sel.value(i) for i in nxt], dtype=np.float64)
    gamma = np.asanyarray(virtual - _numpy_prev(n, q), dtype=virtual.dtype)
    diff = b - a
    out = np.add(a, diff * gamma)
    np.subtract(b, diff * (1 - gamma), out=out, where=gamma >= 0.5)
    return out


def _numpy_prev(n: int, q: np.ndarray) -> np.ndarray:
    virtual = (n - 1) * q
    prev = np.floor(virtual)
    prev[virtual >= n - 1] = -1
    prev[virtual < 0] = 0
    return prev.astype(np.intp)


def _linear_ranks(n: int, q: np.ndarray) -> tuple[list[int], list[int]]:
    prev = _numpy_prev(n, q)
    nxt = np.where(prev == -1, -1, prev + 1)
    nxt[(n - 1) * q < 0] = 0
    return [int(i) % n for i in prev], [int(i) % n for i in nxt]


def _mc_probs(n: int) -> np.ndarray:
    p = np.asarray(QS, dtype=float) / 100.0
    half = 1.96 * np.sqrt(p * (1.0 - p) / n)
    return np.concatenate([np.maximum(p - half, 0.0), np.minimum(p + half, 1.0)])


def _nearest_rank(n: int, q: int) -> int:
    return int(np.around((n - 1) * np.true_divide(q, 100)).astype(np.intp))


def _median_ranks(n: int) -> list[int]:
    return [n // 2 - 1, n // 2] if n % 2 == 0 else [(n - 1) // 2]


def summarize_batches(experiment: Experiment, batches: Batches, n: int) -> dict[str, Any]:
    """:func:`simulation.outcomes.summarize` of the ``n`` draws in ``batches``, in fixed memory."""
    years = [str(y) for y in experiment.report_years]
    amount = {y: f"amount_{y}_bn_krw" for y in years}
    needed = (*_COUNTED, "agreement_date", "in_force_date", "duration_years",
              "rule_index", "solver_converged", "param_krw_per_usd", *amount.values())  # fmt: skip
    n_rules = len(experiment.setting.packages.rules)
    counts = dict.fromkeys(("o0", "o2", "o3", "lapse", "veto", "rejected", "unconverged"), 0)
    durations: dict[int, int] = {}
    rules = np.zeros(n_rules, dtype=np.int64)
    sums = {y: PairwiseSum(n) for y in years}
    finite = dict.fromkeys(years, 0)
    pops = {f"{p}{y}": Selection("f") for p in ("a", "usd") for y in years}
    pops.update(dates=Selection("i"), in_force=Selection("i"), lapse=Selection("f"))

    def values(cols) -> dict[str, np.ndarray]:
        agreed = cols["outcome"] <= 1
        out = {"dates": _days(cols["agreement_date"][agreed]),
               "in_force": _days(cols["in_force_date"][agreed]),
               "lapse": cols["lapse_months"][cols["lapse_months"] > 0]}  # fmt: skip
        for y in years:
            a = cols[amount[y]]
            usd = a * 1000.0 / cols["param_krw_per_usd"]
            out[f"a{y}"], out[f"usd{y}"] = a[~np.isnan(a)], usd[~np.isnan(usd)]
        return out

    for cols in batches(needed):
        o = cols["outcome"]
        agreed = o <= 1
        counts["o0"] += int(np.count_nonzero(o == 0))
        counts["o2"] += int(np.count_nonzero(o == 2))
        counts["o3"] += int(np.count_nonzero(o == 3))
        counts["lapse"] += int(np.count_nonzero(cols["lapse_months"] > 0))
        counts["veto"] += int(np.count_nonzero(cols["vetoes"] > 0))
        counts["rejected"] += int(np.count_nonzero(cols["ratification_rejections"] > 0))
        counts["unconverged"] += int(np.count_nonzero(~cols["solver_converged"]))
        found = np.unique(cols["duration_years"][agreed], return_counts=True)
        for d, c in zip(*found, strict=True):
            durations[int(d)] = durations.get(int(d), 0) + int(c)
        r = cols["rule_index"][agreed]
        rules += np.bincount(r[(r >= 0) & (r < n_rules)].astype(np.intp), minlength=n_rules)
        for y in years:
            a = cols[amount[y]]
            nan = np.isnan(a)
            finite[y] += int(a.size - np.count_nonzero(nan))
            sums[y].add(np.where(nan, 0.0, a))
        for name, x in values(cols).items():
            pops[name].add(x)

    ranks: dict[str, list[int]] = {}
    for y in years:
        m, q = pops[f"a{y}"].size, np.asarray(QS) / 100.0
        ranks[f"a{y}"] = [r for p in (q, _mc_probs(m)) for side in _linear_ranks(m, p)
                          for r in side] if m else []  # fmt: skip
        ranks[f"usd{y}"] = _median_ranks(pops[f"usd{y}"].size) if pops[f"usd{y}"].size else []
    for name in ("dates", "in_force"):
        m = pops[name].size
        ranks[name] = [_nearest_rank(m, q) for q in QS] if m else []
    ranks["lapse"] = _median_ranks(pops["lapse"].size) if pops["lapse"].size else []
    for name, sel in pops.items():
        sel.want(ranks[name])
    while not all(sel.done for sel in pops.values()):
        active = {k: s for k, s in pops.items() if not s.done}
        for s in active.values():
            s.start_pass()
        for cols in batches(needed):
            for name, x in values(cols).items():
                if name in active:
                    active[name].feed(x)
        for s in active.values():
            s.end_pass()

    def prob(k: int) -> dict[str, float]:
        p = float(np.float64(k) / n)
        return {"p": p, "se": float(np.sqrt(p * (1 - p) / n))}

    def median(sel: Selection):
        if not sel.size:
            return None
        r = _median_ranks(sel.size)
        return float(np.mean([sel.value(i) for i in r], dtype=np.float64))

    out_years = {}
    for y in years:
        sel = pops[f"a{y}"]
        if sel.size:
            qv = _linear(sel, np.asarray(QS) / 100.0)
            ends = _linear(sel, _mc_probs(sel.size))
            half = {f"q{q:02d}": float((b - a) / 2.0)
                    for q, a, b in zip(QS, ends[:5], ends[5:], strict=True)}  # fmt: skip
        else:
            qv = np.full(len(QS), np.nan)
            half = {f"q{q:02d}": float("nan") for q in QS}
        usd = median(pops[f"usd{y}"])
        out_years[y] = {
            "quantiles_bn_krw": {f"q{q:02d}": float(v) for q, v in zip(QS, qv, strict=True)},
            "quantiles_mc_95_halfwidth_bn_krw": half,
            "mean_bn_krw": sums[y].total() / finite[y] if finite[y] else float("nan"),
            "median_usd_m": float("nan") if usd is None else usd,
        }

    def date_q(name: str, q: int):
        sel = pops[name]
        if not sel.size:
            return None
        return str(np.datetime64(int(sel.value(_nearest_rank(sel.size, q))), "D"))

    n_agreed = sum(durations.values())
    return {
        "experiment": experiment.name,
        "draws": n,
        "concept": experiment.concept,
        "units": {"amounts": "bn KRW per year", "usd": "USD M per year", "dates": "ISO date"},
        "years": out_years,
        "p_agreement_before_expiry": prob(counts["o0"]),
        "p_lapse": prob(counts["lapse"]),
        "p_no_agreement_by_hard_stop": prob(counts["o2"]),
        "p_no_talks": prob(counts["o3"]),
        "p_veto": prob(counts["veto"]),
        "p_ratification_rejected": prob(counts["rejected"]),
        "agreement_date": {f"q{q:02d}": date_q("dates", q) for q in QS},
        "in_force_date": {f"q{q:02d}": date_q("in_force", q) for q in QS},
        "median_lapse_months_given_lapse": median(pops["lapse"]),
        "duration_share": {
            str(d): float(np.float64(c) / n_agreed) for d, c in sorted(durations.items())
        },
        "rule_share": {
            r.name: float(rules[i] / max(n_agreed, 1))
            for i, r in enumerate(experiment.setting.packages.rules)
        },
        "solver_not_converged": counts["unconverged"],
        "outcome_codes": dict(enumerate(OUTCOMES)),
        "calibration": _calibration(experiment),
    }


def _days(d: np.ndarray) -> np.ndarray:
    return d.astype("datetime64[D]").astype(np.int64)
