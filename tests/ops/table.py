"""The one table of ops: every family's lines, gathered, and their complex
variants.

Each family's module draws its random cases from a stream seeded by the
module's name, so adding a line to one family never changes another's
values.

COMPLEX_OPS holds a complex variant of every op whose NumPy code accepts
complex arguments (see `spec.Op.complex`): the cases with an imaginary part,
run in every mode but the complex step. REJECTS_COMPLEX names the ops whose
NumPy code refuses complex input (with the error), which
tests/test_ops.py checks is NumPy's refusal, not a domain problem of the
generated cases.
"""

import dataclasses
import importlib
import pkgutil
import warnings
import zlib

import numpy as np

from . import __path__ as _here
from . import spec

OPS = []
for _mod in sorted(m.name for m in pkgutil.iter_modules(_here) if m.name.startswith("table_")):
    spec.reseed(zlib.crc32(_mod.encode()))
    OPS.extend(importlib.import_module(f"{__package__}.{_mod}").OPS)


def _complex_variant(op):
    """(variant Op, None), or (None, why NumPy refused the complex cases)."""
    cases = spec.complexify(op, zlib.crc32(op.name.encode()))
    if isinstance(op.complex, type):  # every mode must raise this error
        modes = tuple(m for m in op.modes if m != "cs")
        return dataclasses.replace(op, name=f"{op.name}[complex]", cases=cases, modes=modes), None
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for case in cases:
                op.fun(*case)
    except Exception as e:  # noqa: BLE001  (NumPy refuses complex input)
        return None, f"{type(e).__name__}: {e}"
    modes = op.complex_modes or tuple(m for m in op.modes if m != "cs")
    smooth = op.smooth and bool({"fwd_rev", "rev_rev"} & set(modes))
    return dataclasses.replace(op, name=f"{op.name}[complex]", cases=cases, modes=modes,
                               smooth=smooth), None


COMPLEX_OPS = []
REJECTS_COMPLEX = {}
for _op in OPS:
    if _op.complex is False:
        continue
    _variant, _why = _complex_variant(_op)
    if _variant is None:
        REJECTS_COMPLEX[_op.name] = _why
    else:
        COMPLEX_OPS.append(_variant)
