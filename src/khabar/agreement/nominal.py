"""Nominal agreement of value-count rows: percent agreement and Krippendorff's alpha.

A unit (a matched claim pair, a stance unit) is a row of Krippendorff's ``value_counts``: how many
annotators gave it each label of the vocabulary, in schema order. Rows are tallied in a
``Counter`` (row -> how many units), so a corpus of any size keeps a handful of distinct rows.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import numpy as np

__all__ = ["agreement_from_rows", "alpha_from_rows", "package_alpha"]


def agreement_from_rows(rows: Counter) -> float | None:
    """Observed pairwise agreement of value-count rows: agreeing ordered value pairs / all pairs
    within units; None without a unit of two or more values."""
    agree = total = 0
    for row, n in rows.items():
        m = sum(row)
        total += n * m * (m - 1)
        agree += n * sum(c * (c - 1) for c in row)
    return agree / total if total else None


def alpha_from_rows(rows: Counter, labels: tuple[str, ...]) -> tuple[float | None, str | None]:
    """Krippendorff's alpha (nominal) of value-count rows with multiplicities, from the summed
    coincidence matrix (Krippendorff 2011, "Computing Krippendorff's alpha-reliability", the sum
    the ``krippendorff`` package computes): ``alpha = 1 - (n - 1) * D_o / D_e`` with ``D_o`` the
    off-diagonal coincidences and ``D_e = sum_{c != k} n_c n_k``. Exact (fractions), constant memory.

    Returns:
        ``(alpha, None)``, or ``(None, reason)`` when no unit has two values or every pairable
        value is the same label (alpha is 0/0 then).
    """
    size = len(labels)
    o = [[Fraction(0)] * size for _ in range(size)]
    for row, mult in sorted(rows.items()):
        m = sum(row)
        if m < 2:
            continue
        for c in range(size):
            for k in range(size):
                if row[c] and row[k]:
                    o[c][k] += Fraction(mult * row[c] * (row[k] - (c == k)), m - 1)
    n_c = [sum(r) for r in o]
    n = sum(n_c)
    if n == 0:
        return None, "no unit has values from two or more annotators"
    d_e = sum(n_c[c] * n_c[k] for c in range(size) for k in range(size) if c != k)
    if d_e == 0:
        only = labels[next(c for c in range(size) if n_c[c])]
        return None, f"every pairable value is {only}: no variation, so alpha is undefined (0/0)"
    d_o = sum(o[c][k] for c in range(size) for k in range(size) if c != k)
    return float(1 - (n - 1) * d_o / d_e), None


def package_alpha(rows: Counter, labels: tuple[str, ...]) -> tuple[float | None, str | None]:
    """:func:`alpha_from_rows` computed by the ``krippendorff`` package (rows expanded; one document's worth)."""
    import krippendorff

    value, reason = alpha_from_rows(rows, labels)  # the same guards: the package raises or divides 0/0 there
    if value is None:
        return None, reason
    counts = np.array([row for row, mult in sorted(rows.items()) for _ in range(mult)], dtype=np.int64)
    return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal")), None
