"""Directions, the bilinear pairing u.(J v), and the record of one estimate."""

import numpy as np

from ..core.trace import raw


def _random_like(x, rng):
    x = np.asarray(raw(x))
    if x.dtype.kind == "c":
        return (rng.standard_normal(x.shape) + 1j * rng.standard_normal(x.shape)).astype(x.dtype)
    return np.asarray(rng.standard_normal(x.shape), dtype=x.dtype if x.dtype.kind == "f" else float)


def _is_float(x):
    return np.result_type(raw(x)).kind in "fc"


def _pair(a, b):
    """`(sum(a * b), sum(|a * b|))` over matching leaves: the bilinear pairing
    (no conjugation; its real part is the pairing of C as R^2) and its terms."""
    total, terms = 0.0, 0.0
    for x, y in zip(a, b):
        if x is None or y is None:
            continue
        prod = np.asarray(x) * np.asarray(y)
        total = total + np.sum(prod)
        terms += float(np.sum(np.abs(prod)))
    return total, terms


class _Est:
    """One estimate of u.(J v): its value, the sum of |terms| it summed, an
    absolute error allowance of its own, and its kind: "exact" (dual
    numbers, tape), "cs" (complex step) or "fd" (central differences)."""

    __slots__ = ("value", "terms", "error", "kind")

    def __init__(self, value, terms, error=0.0, kind="exact"):
        self.value = complex(value) if np.iscomplexobj(value) else float(value)
        self.terms = terms
        self.error = error
        self.kind = kind


class _Unusable(Exception):
    """An estimator cannot run on this function (complex input refused...)."""
