"""What each column of the per-draw table means: its unit and a one-line description.

Written into the Parquet schema as field metadata (``unit``, ``description``), so a table read
by any tool carries its units and code labels; :func:`arrow_table` builds such a table.
"""

from __future__ import annotations

import re

import numpy as np

from smasim.models.parameters import PARAMETERS

OUTCOME_CODES = ("agreed_before_expiry", "agreed_after_lapse", "no_agreement", "no_talks")
"""The labels of the per-draw ``outcome`` codes 0-3 (``simulation.records.OUTCOMES``)."""
OUTCOME_LABELS = ", ".join(f"{code} = {label}" for code, label in enumerate(OUTCOME_CODES))

FIXED: dict[str, tuple[str, str]] = {
    "draw": ("index", "draw number in the run"),
    "outcome": ("code", f"how the negotiation ended: {OUTCOME_LABELS}"),
    "agreement_date": ("date", "working-level agreement (null if none)"),
    "talks_open_date": ("date", "the round the talks opened at (null if no talks)"),
    "in_force_date": ("date", "the agreement ratified and in force (null if none)"),
    "agreement_round": ("index", "round of the agreement (-1 if none)"),
    "lapse_months": ("months", "months without an SMA in force"),
    "base_bn_krw": ("bn KRW per year", "agreed first-year amount (null if none)"),
    "package": ("index", "agreed package, rule-major over the config's rules and terms (-1)"),
    "rule_index": ("index", "agreed escalation rule, in the config's order (-1 if none)"),
    "duration_years": ("years", "agreed term (0 if none)"),
    "growth_rate": ("fraction per year", "growth of the agreed rule (null if none)"),
    "in_kind_bn_krw": ("bn KRW", "one-off in-kind package agreed beside the SMA (0 if none)"),
    "u_us": ("utility", "U.S. utility of the agreement"),
    "u_kr": ("utility", "Korea's utility of the agreement"),
    "vetoes": ("count", "U.S. presidential vetoes"),
    "ratification_rejections": ("count", "refusals by the National Assembly"),
    "high_pressure_after_election": ("boolean", "a high-pressure U.S. administration won"),
    "us_pressure_final": ("index 0-1", "U.S. pressure index at the end"),
    "solver_converged": ("boolean", "the bargaining solver met its tolerance"),
    "term_end_year": ("year", "last year of the agreed term (-1 if none)"),
    "total_bn_krw": ("bn KRW", "contribution summed over the report years"),
}


def column_info(name: str) -> tuple[str, str]:
    """``(unit, description)`` of a per-draw column; ``("", "")`` for an unknown name."""
    if name in FIXED:
        return FIXED[name]
    if m := re.fullmatch(r"amount_(\d{4})_bn_krw", name):
        return "bn KRW per year", f"contribution paid in {m[1]}"
    if name.startswith("param_") and name[6:] in PARAMETERS:
        p = PARAMETERS[name[6:]]
        return p.unit, f"sampled parameter: {p.description}"
    if name.startswith("noise_"):
        return "uniform in [0, 1)", f"the model's own random number ({name[6:]})"
    return "", ""


def arrow_table(columns: dict[str, np.ndarray]):
    """A :class:`pyarrow.Table` of ``columns`` (each shape (n,)) with units as field metadata."""
    import pyarrow as pa

    table = pa.table(columns)
    fields = []
    for f in table.schema:
        unit, description = column_info(f.name)
        meta = {"unit": unit, "description": description} if unit else None
        fields.append(f.with_metadata(meta) if meta else f)
    return table.cast(pa.schema(fields))
