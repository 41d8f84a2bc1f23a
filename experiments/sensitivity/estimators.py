r"""Sobol' estimators with common random numbers, bootstrap intervals and a convergence check.

Given the outputs of a model at the points of a Saltelli design
(:mod:`experiments.sensitivity.design`), this module computes the first-order and total
indices of each factor, their percentile bootstrap intervals and the N/2-vs-N check;
:func:`experiments.sensitivity.sobol.sobol_analysis` evaluates a function on the design and
calls it.

Sobol' indices of a stochastic model
------------------------------------
Write the metric of one draw as :math:`Y = f(X, \omega)`: :math:`X` are the analysed factors
(a factor is one parameter or a group of parameters), :math:`\omega` everything else that is
random in a draw (in smasim: the model's own randomness,
:class:`simulation.sampling.Noise`, and the uncertain parameters that are not analysed;
see :mod:`experiments.sensitivity.analysis`). The function receives, with each point, its
base row ``j`` and must use the random numbers :math:`\omega_j` of that row. For a fixed
:math:`\omega` the model is a deterministic function of :math:`X` with the classical Sobol'
decomposition
:math:`V(\omega) = \mathrm{Var}_X(Y \mid \omega)`, first-order partial variances
:math:`V_i(\omega) = \mathrm{Var}(\mathrm{E}[Y \mid X_i, \omega] \mid \omega)` and total ones
:math:`V_{Ti}(\omega) = \mathrm{E}[\mathrm{Var}(Y \mid X_{\sim i}, \omega) \mid \omega]`.
smasim reports the indices of that decomposition with the variances averaged over
:math:`\omega`:

.. math::

    S_i = \frac{\mathrm{E}_\omega V_i(\omega)}{\mathrm{E}_\omega V(\omega)}, \qquad
    S_{Ti} = \frac{\mathrm{E}_\omega V_{Ti}(\omega)}{\mathrm{E}_\omega V(\omega)}.

They are estimated with **common random numbers**: the Saltelli design has base rows
:math:`j = 1..N` of two independent matrices :math:`A` and :math:`B` (a scrambled Sobol'
sequence in :math:`2d` dimensions, as :func:`scipy.stats.sobol_indices` draws it), and
:math:`AB^{(i)}` is :math:`A` with the columns of factor :math:`i` (all its members at once,
for a group) taken from :math:`B`. Row :math:`j` of :math:`A`, :math:`B` and every
:math:`AB^{(i)}` is evaluated with the same :math:`\omega_j`. Then (after centring the
outputs on their mean, Sobol' and Levitan 1999)

.. math::

    \hat D = \frac{1}{2N} \sum_j (f_{A,j} - f_{B,j})^2, \quad
    \hat S_i = \frac{1}{N \hat D} \sum_j f_{B,j} (f_{AB^{(i)},j} - f_{A,j}), \quad
    \hat S_{Ti} = \frac{1}{2N \hat D} \sum_j (f_{A,j} - f_{AB^{(i)},j})^2,

the estimators of Saltelli et al. (2010, first order) and Jansen (1999, total) that
:func:`scipy.stats.sobol_indices` uses, with the denominator :math:`\hat D` estimating
:math:`\mathrm{E}_\omega V(\omega)` instead of the total variance. Because :math:`\omega_j` is
shared, each expectation above is the one of the deterministic model at :math:`\omega_j`,
averaged over :math:`j`. Consequences, all tested:

* a parameter without effect has :math:`f_{AB^{(i)}} = f_A` bit for bit, so its indices and
  their intervals are exactly 0 (independent noise would give a noisy non-zero estimate);
* when one factor is analysed, :math:`S_1 = S_T = 1` up to sampling error: the indices measure
  the parameters, never the noise;
* :math:`S_i` includes the interactions of factor :math:`i` with :math:`\omega` (e.g.
  ``p_high_pressure`` acts only through the election draw), :math:`S_{Ti}` in addition its
  interactions with the other analysed factors;
* the share of the total variance that :math:`\omega` explains alone,
  :math:`\mathrm{Var}(\mathrm{E}[Y \mid \omega]) / \mathrm{Var}(Y) = 1 - \hat D / \hat V`, is
  reported as ``noise_share``; an index times ``1 - noise_share`` is a share of the total
  variance of the metric. For a deterministic model :math:`\hat D` and :math:`\hat V` estimate
  the same variance and the indices are the classical ones.

Noise that acts additively (a term of :math:`\omega` alone) cancels in
:math:`f_{AB^{(i)}} - f_A` but enters :math:`f_B` in the first-order numerator: it widens the
interval of :math:`\hat S_i`, never biases it. Jansen's first-order form
:math:`1 - \sum_j (f_{B,j} - f_{AB^{(i)},j})^2 / (4 N \hat D)` cancels it exactly, but on
smasim's outputs it was no better overall (smaller errors for some indices, larger for the
small ones) and it is not SciPy's, so the Saltelli form is kept.

Confidence intervals are percentile bootstrap intervals over the base rows :math:`j` (each
resample reweights the per-row terms of the estimators; one matrix product per block of
resamples, so 1000 resamples at :math:`N = 2^{14}` take about a second, against ~40 s for
SciPy's BCa bootstrap, which is O(N^2)). Resampling treats the quasi-random rows as
independent, which makes the intervals conservative for smooth metrics. The convergence
check compares the indices of the first :math:`N/2` rows (a balanced Sobol' design of its
own) with those of all :math:`N` rows and warns when the two intervals of an index do not
overlap.

References
----------
Jansen, M. J. W. (1999). Analysis of variance designs for model output. Computer Physics
Communications 117, 35-43.
Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010). Variance
based sensitivity analysis of model output. Computer Physics Communications 181(2), 259-270.
Sobol', I. M., Levitan, Y. L. (1999). On the use of variance reducing multipliers in Monte Carlo
computations of a global sensitivity index. Computer Physics Communications 117(1), 52-61.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from smasim.experiments.sensitivity.design import Factor


@dataclass(frozen=True)
class SobolIndices:
    """Sobol' indices of a set of factors with confidence intervals.

    Attributes
    ----------
    n : int
        Base rows used.
    first_order, total_order : ndarray, shape (n_factors,)
        Shares of the variance (dimensionless).
    first_order_ci, total_order_ci : ndarray, shape (n_factors, 2)
        Percentile bootstrap interval (low, high).
    """

    n: int
    first_order: np.ndarray
    total_order: np.ndarray
    first_order_ci: np.ndarray
    total_order_ci: np.ndarray


@dataclass(frozen=True)
class SobolResult:
    """The result of a Sobol' analysis.

    Attributes
    ----------
    factors : tuple of Factor
    indices : SobolIndices
        From all N base rows.
    half : SobolIndices
        From the first N/2 base rows (the convergence check).
    warnings : tuple of str
        One per index whose intervals at N/2 and N do not overlap.
    variance : float
        Total variance of the metric over the design's A and B rows, (metric unit)^2.
    conditional_variance : float
        ``E_omega Var(Y | omega)``, the denominator of the indices, (metric unit)^2.
    mean : float
        Mean of the metric over the A and B rows, metric unit.
    confidence : float
        Level of the intervals.
    n_resamples : int
    f_a, f_b : ndarray, shape (n,)
        Model outputs at A and B (uncentred).
    f_ab : ndarray, shape (n_factors, n)
        Outputs at AB for each factor.
    """

    factors: tuple[Factor, ...]
    indices: SobolIndices
    half: SobolIndices
    warnings: tuple[str, ...]
    variance: float
    conditional_variance: float
    mean: float
    confidence: float
    n_resamples: int
    f_a: np.ndarray = field(repr=False)
    f_b: np.ndarray = field(repr=False)
    f_ab: np.ndarray = field(repr=False)

    @property
    def converged(self) -> bool:
        """Whether the convergence check passed."""
        return not self.warnings

    @property
    def noise_share(self) -> float:
        """``Var(E[Y | omega]) / Var(Y)``: what the noise and unanalysed inputs explain alone."""
        if self.variance <= 0:
            return 0.0
        return 1.0 - self.conditional_variance / self.variance


def row_terms(f_a: np.ndarray, f_b: np.ndarray, f_ab: np.ndarray) -> np.ndarray:
    """Per-row terms whose means give the estimators (see the module docstring).

    Parameters
    ----------
    f_a, f_b : ndarray, shape (n,)
    f_ab : ndarray, shape (n_factors, n)

    Returns
    -------
    ndarray, shape (2 n_factors + 1, n)
        Rows ``0..g-1``: ``f_B (f_AB_i - f_A)``; rows ``g..2g-1``: ``(f_A - f_AB_i)^2 / 2``;
        last row: ``(f_A - f_B)^2 / 2``; all on outputs centred at the mean of A and B.
    """
    mu = np.mean(np.concatenate([f_a, f_b]))
    a, b, ab = f_a - mu, f_b - mu, f_ab - mu
    first = b[None, :] * (ab - a[None, :])
    total = 0.5 * (a[None, :] - ab) ** 2
    cond = 0.5 * (a - b) ** 2
    return np.vstack([first, total, cond[None, :]])


def indices_from_means(means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and total indices from the means of :func:`row_terms`.

    Parameters
    ----------
    means : ndarray, shape (..., 2 n_factors + 1)

    Returns
    -------
    first, total : ndarray, shape (..., n_factors)
        0 where the conditional variance is 0 (a constant metric).
    """
    g = (means.shape[-1] - 1) // 2
    d = means[..., -1:]
    ok = d > 0
    safe = np.where(ok, d, 1.0)
    first = np.where(ok, means[..., :g] / safe, 0.0)
    total = np.where(ok, means[..., g : 2 * g] / safe, 0.0)
    return first, total


def bootstrap_indices(
    terms: np.ndarray,
    *,
    n_resamples: int,
    confidence: float,
    rng: np.random.Generator,
) -> SobolIndices:
    """Indices and percentile bootstrap intervals from per-row terms.

    Each resample draws N rows with replacement; its estimators are the count-weighted means
    of the terms, one matrix product for a block of resamples. Cost O(n_resamples N g).

    Parameters
    ----------
    terms : ndarray, shape (2 n_factors + 1, n)
        From :func:`row_terms`.
    n_resamples : int
    confidence : float
        In (0, 1).
    rng : numpy.random.Generator

    Returns
    -------
    SobolIndices
    """
    n = terms.shape[1]
    first, total = indices_from_means(terms.mean(axis=1))
    block = max(1, min(n_resamples, (1 << 21) // n))
    means = np.empty((n_resamples, terms.shape[0]))
    for start in range(0, n_resamples, block):
        r = min(block, n_resamples - start)
        idx = rng.integers(0, n, size=(r, n))
        flat = (idx + n * np.arange(r)[:, None]).ravel()
        counts = np.bincount(flat, minlength=r * n).reshape(r, n).astype(float)
        means[start : start + r] = counts @ terms.T / n
    b_first, b_total = indices_from_means(means)
    q = [(1 - confidence) / 2, (1 + confidence) / 2]
    return SobolIndices(
        n=n,
        first_order=first,
        total_order=total,
        first_order_ci=np.quantile(b_first, q, axis=0).T,
        total_order_ci=np.quantile(b_total, q, axis=0).T,
    )


def estimate_indices(
    f_a: np.ndarray,
    f_b: np.ndarray,
    f_ab: np.ndarray,
    *,
    factors: Sequence[Factor],
    n_resamples: int = 1000,
    confidence: float = 0.95,
    rng: np.random.Generator | int | None = None,
) -> SobolResult:
    """Sobol' indices, bootstrap intervals and the N/2-vs-N check from model outputs.

    Parameters
    ----------
    f_a, f_b : ndarray, shape (n,)
        Outputs at the rows of A and B.
    f_ab : ndarray, shape (n_factors, n)
        Outputs at AB for each factor, row j sharing the common random numbers of row j of A
        and B.
    factors : sequence of Factor
    n_resamples : int
        Bootstrap resamples.
    confidence : float
        Level of the intervals.
    rng : numpy.random.Generator or seed, optional
        For the bootstrap.

    Returns
    -------
    SobolResult
    """
    rng = np.random.default_rng(rng)
    f_a, f_b, f_ab = (np.asarray(x, dtype=float) for x in (f_a, f_b, f_ab))
    n = f_a.size
    if not (np.all(np.isfinite(f_a)) and np.all(np.isfinite(f_b)) and np.all(np.isfinite(f_ab))):
        raise ValueError("metric: the model returned non-finite values")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence}")
    if n_resamples < 10:
        raise ValueError(f"n_resamples: must be at least 10, got {n_resamples}")
    terms = row_terms(f_a, f_b, f_ab)
    full = bootstrap_indices(terms, n_resamples=n_resamples, confidence=confidence, rng=rng)
    half_terms = row_terms(f_a[: n // 2], f_b[: n // 2], f_ab[:, : n // 2])
    half = bootstrap_indices(half_terms, n_resamples=n_resamples, confidence=confidence, rng=rng)
    warnings = []
    for kind, attr in (("S1", "first_order"), ("ST", "total_order")):
        for i, f in enumerate(factors):
            lo_h, hi_h = getattr(half, attr + "_ci")[i]
            lo_f, hi_f = getattr(full, attr + "_ci")[i]
            if hi_h < lo_f or hi_f < lo_h:
                warnings.append(
                    f"{kind} of {f.name}: {getattr(half, attr)[i]:.3f} [{lo_h:.3f}, {hi_h:.3f}] "
                    f"at N/2 = {n // 2:,} rows vs {getattr(full, attr)[i]:.3f} "
                    f"[{lo_f:.3f}, {hi_f:.3f}] at N = {n:,}: not converged, increase --n"
                )
    both = np.concatenate([f_a, f_b])
    return SobolResult(
        factors=tuple(factors),
        indices=full,
        half=half,
        warnings=tuple(warnings),
        variance=float(np.var(both)),
        conditional_variance=float(terms[-1].mean()),
        mean=float(both.mean()),
        confidence=confidence,
        n_resamples=n_resamples,
        f_a=f_a,
        f_b=f_b,
        f_ab=f_ab,
    )
