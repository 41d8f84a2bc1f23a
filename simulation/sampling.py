"""Uncertain parameters as data, sampled in the unit cube by a design.

Each uncertain parameter is a frozen :mod:`scipy.stats` distribution or a categorical choice.
A design (plain Monte Carlo, Latin hypercube or scrambled Sobol, via :mod:`scipy.stats.qmc`)
fills the unit cube with one column per uncertain parameter; each column is mapped through the
parameter's inverse CDF. Constants are broadcast. The model's own randomness (whether talks
open, the election outcome, ratification votes) is drawn after the design from the same
generator, so one batch is replayed exactly by its seed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.stats import qmc

Design = Literal["montecarlo", "lhs", "sobol"]
DESIGNS: tuple[str, ...] = ("montecarlo", "lhs", "sobol")


@dataclass(frozen=True)
class Noise:
    """The model's own randomness for each draw, drawn up front so a draw can be replayed.

    Attributes
    ----------
    talks : ndarray, shape (n_draws,)
        Uniform; talks open iff below ``talks_probability``.
    election : ndarray, shape (n_draws,)
        Uniform; a high-pressure administration iff below ``p_high_pressure``.
    ratification : ndarray, shape (n_draws, n_attempts)
        Uniforms for successive ratification votes; a vote fails iff below its P(rejection).
    events : ndarray, shape (n_draws, N_EVENT_NOISE)
        Uniforms of the scenario events, by column (:data:`EVENT_NOISE`): when a reopening
        demand arrives, who wins Korea's presidential election. Zeros when not given.
    packages : ndarray, shape (n_draws, K), or None
        Standard normals: each package's appeal that the model does not value
        (:func:`models.valuation.package_appeal`). None: no appeal (as at
        ``package_appeal_sd = 0``).
    """

    talks: np.ndarray
    election: np.ndarray
    ratification: np.ndarray
    events: np.ndarray | None = None
    packages: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.events is None:
            object.__setattr__(self, "events", np.zeros((self.talks.shape[0], N_EVENT_NOISE)))

    def event(self, name: str) -> np.ndarray:
        """The uniforms of one scenario event (a key of :data:`EVENT_NOISE`), shape (n_draws,)."""
        return self.events[:, EVENT_NOISE[name]]

    def take(self, rows) -> Noise:
        """The noise of draws ``rows`` (an index array or slice)."""
        return Noise(
            self.talks[rows],
            self.election[rows],
            self.ratification[rows],
            self.events[rows],
            None if self.packages is None else self.packages[rows],
        )


# Columns of Noise.events. Drawn after everything else a batch draws (the design, the noise
# above, a posterior's picks), so configs without these events keep their bits.
EVENT_NOISE: dict[str, int] = {"reopening": 0, "kr_election": 1}
N_EVENT_NOISE = len(EVENT_NOISE)


def draw_event_noise(noise: Noise, rng: np.random.Generator) -> Noise:
    """``noise`` with its scenario-event uniforms drawn from ``rng`` (the batch's last draw).

    One ``rng.random(n)`` per event in :data:`EVENT_NOISE` order, so an event added at the
    end leaves the uniforms of the others unchanged.
    """
    n = noise.talks.shape[0]
    events = np.column_stack([rng.random(n) for _ in EVENT_NOISE]).reshape(n, N_EVENT_NOISE)
    return Noise(noise.talks, noise.election, noise.ratification, events, noise.packages)


def draw_package_noise(noise: Noise, rng: np.random.Generator, n_packages: int) -> Noise:
    """``noise`` with each package's appeal drawn from ``rng`` (the batch's very last draw).

    ``n_packages`` standard normals per draw, after everything else, the event uniforms
    included, so that the other streams keep their bits.
    """
    n = noise.talks.shape[0]
    packages = rng.standard_normal((n, n_packages))
    return Noise(noise.talks, noise.election, noise.ratification, noise.events, packages)


@dataclass(frozen=True)
class ParameterSpec:
    """How one named parameter is drawn.

    Exactly one of ``value``, ``distribution`` and ``choices`` is set.

    Attributes
    ----------
    name : str
    value : float, optional
        A constant.
    distribution : scipy.stats frozen distribution, optional
    choices, weights : tuple of float, optional
        A categorical choice; ``weights`` sum to 1.
    """

    name: str
    value: float | None = None
    distribution: Any = None
    choices: tuple[float, ...] | None = None
    weights: tuple[float, ...] | None = None

    @property
    def uncertain(self) -> bool:
        """Whether the parameter takes a column of the design."""
        return self.value is None

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Map uniforms ``u``, shape (n,), to parameter values, shape (n,)."""
        if self.value is not None:
            return np.full(u.shape, float(self.value))
        if self.distribution is not None:
            return np.asarray(self.distribution.ppf(u), dtype=float)
        edges = np.cumsum(self.weights)
        idx = np.minimum(np.searchsorted(edges, u, side="right"), len(self.choices) - 1)
        return np.asarray(self.choices, dtype=float)[idx]

    def prior_key(self) -> list:
        """A JSON-ready description of the prior, equal for equal priors."""
        d = self.distribution
        dist = (
            None
            if d is None
            else [d.dist.name, list(d.args), [list(kv) for kv in sorted(d.kwds.items())]]
        )
        return [self.value, dist, self.choices and list(self.choices),
                self.weights and list(self.weights)]  # fmt: skip

    def central(self) -> float:
        """Central value: the constant, the median, or the most likely choice."""
        if self.value is not None:
            return float(self.value)
        if self.distribution is not None:
            return float(self.distribution.median())
        return float(self.choices[int(np.argmax(self.weights))])


def unit_design(n: int, d: int, design: Design, *, rng: np.random.Generator) -> np.ndarray:
    """Points in the unit cube.

    Parameters
    ----------
    n : int
        Number of points.
    d : int
        Dimensions (uncertain parameters).
    design : {"montecarlo", "lhs", "sobol"}
    rng : numpy.random.Generator

    Returns
    -------
    ndarray, shape (n, d)
        In [0, 1).
    """
    if d == 0:
        return np.empty((n, 0))
    if design == "montecarlo":
        return rng.random((n, d))
    if design == "lhs":
        return qmc.LatinHypercube(d, rng=rng).random(n)
    if design == "sobol":
        m = max(int(np.ceil(np.log2(max(n, 1)))), 0)
        # a full base-2 block keeps the balance properties; extra points are dropped
        return qmc.Sobol(d, scramble=True, rng=rng).random_base2(m)[:n]
    msg = f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}"
    raise ValueError(msg)


def sample(
    specs: Sequence[ParameterSpec],
    n: int,
    *,
    design: Design,
    n_attempts: int,
    rng: np.random.Generator,
    events: bool = True,
    n_packages: int = 0,
) -> tuple[dict[str, np.ndarray], Noise]:
    """Draw ``n`` parameter sets and the model's own noise.

    Parameters
    ----------
    specs : sequence of ParameterSpec
    n : int
        Draws.
    design : {"montecarlo", "lhs", "sobol"}
    n_attempts : int
        Ratification votes allowed per draw.
    rng : numpy.random.Generator
    events : bool
        Draw the scenario events' uniforms and then the packages' appeal last
        (:func:`draw_event_noise`, :func:`draw_package_noise`); ``False`` for a caller that
        draws more first (a posterior's picks) and then calls them.
    n_packages : int
        ``K``, the packages on the table (the appeal's columns); 0 for none.

    Returns
    -------
    values : dict of str to ndarray, shape (n,)
    noise : Noise
    """
    uncertain = [s for s in specs if s.uncertain]
    cube = unit_design(n, len(uncertain), design, rng=rng)
    values = {}
    col = 0
    for s in specs:
        if s.uncertain:
            values[s.name] = s.from_unit(cube[:, col])
            col += 1
        else:
            values[s.name] = np.full(n, float(s.value))
    u = rng.random((n, 2 + n_attempts))
    noise = Noise(talks=u[:, 0], election=u[:, 1], ratification=u[:, 2:])
    if not events:
        return values, noise
    noise = draw_event_noise(noise, rng)
    return values, draw_package_noise(noise, rng, n_packages) if n_packages else noise
