"""Guards: the value-dependent decisions a compiled program specialised on.

Under `compile`, tracing knows the arguments of the call that triggered it.
Where the traced code needs a value (`if np.sum(x) > 0:`, `float(t)`, a
shape that depends on values like `x[y > 0]`), it reads it from those
arguments and records a `Guard`: the Var, what was decided about it, and
the line of user code that needed it. The generated source checks every
guard right after computing its Var and raises `GuardFailure` on a
mismatch; `Compiled` then tries its other variants, traces a new one, or
runs the call eagerly.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> def f(x):
    ...     return x * 2.0 if np.sum(x) > 0 else -x
    >>> graph, guards = trace(f, np.ones(2), guarded=True)
    >>> [(g.kind, g.expected) for g in guards]
    [('bool', True)]
"""

import os
from dataclasses import dataclass

import numpy as np

from .ir import Lit, Var


@dataclass(eq=False)
class Guard:
    """`var` was found to be `expected`: kind "bool" (a truth value taken by
    Python control flow), "shape" (a value-dependent output shape) or
    "value" (the whole value, read by float(), int(), np.asarray...);
    `where` is the user's `file:line: code` that needed it."""

    var: object
    kind: str
    expected: object
    where: str

    def describe(self):
        """A one-line account: where, and what was decided there.

        Example:
            >>> Guard(None, "bool", True, "/a/f.py:3: if x > 0:").describe()
            'f.py:3: if x > 0: (a truth value, True when traced)'
        """
        what = {"bool": f"a truth value, {self.expected} when traced",
                "shape": f"a value-dependent shape, {self.expected} when traced",
                "value": "a value read by float(), int(), np.asarray()..., fixed when traced"}[self.kind]
        return f"{short_where(self.where)} ({what})"


def short_where(where):
    """`file:line: code` with the file's folder dropped (first line only).

    Example:
        >>> short_where("project/models/model.py:12: if x > 0:")
        'model.py:12: if x > 0:'
    """
    first = where.splitlines()[0] if where else "<unknown line>"
    return os.path.basename(first.split(":", 1)[0]) + (":" + first.split(":", 1)[1] if ":" in first else "")


class GuardFailure(Exception):
    """Raised by generated code when a guard does not hold for this call
    (handled inside `Compiled`; never reaches the caller)."""

    def __init__(self, index):
        super().__init__(index)
        self.index = index


def same_value(value, expected):
    """Whether a guarded value equals the one traced (shape and every entry;
    NaN equal to NaN).

    Example:
        >>> same_value(np.array([1.0, np.nan]), np.array([1.0, np.nan])), same_value(2.0, np.array(3.0))
        (True, False)
    """
    value = np.asarray(value)
    if value.shape != expected.shape:
        return False
    try:
        return bool(np.array_equal(value, expected, equal_nan=True))
    except TypeError:  # dtypes without NaN
        return bool(np.array_equal(value, expected))


def with_guard_outputs(graph, guards):
    """The graph with the guarded Vars appended to its outputs, so the
    optimisation passes keep them (and rename them consistently)."""
    return graph.replace(outputs=list(graph.outputs) + [g.var for g in guards])


def split_guard_outputs(graph, guards):
    """Undo `with_guard_outputs` after optimisation: (graph, guards) with
    each guard on the Var now computing its value. A guard whose value the
    passes turned into a constant holds for every call and is dropped."""
    n = len(graph.outputs) - len(guards)
    kept = []
    for g, v in zip(guards, graph.outputs[n:]):
        if isinstance(v, Lit) or (isinstance(v, Var) and v in graph.consts):
            continue
        kept.append(Guard(v, g.kind, g.expected, g.where))
    return graph.replace(outputs=graph.outputs[:n]), kept


def check_lines(guard, index, name, bind):
    """Source lines checking one guard on the variable called `name`;
    `bind(obj, hint)` names an object in the generated namespace."""
    comment = f"    # guard {index}: {guard.describe()}"
    fail = f"raise GuardFailure({index})"
    if guard.kind == "bool":
        test = f"not {name}" if guard.expected else name
    elif guard.kind == "shape":
        test = f"np.shape({name}) != {tuple(guard.expected)!r}"
    else:
        test = f"not same_value({name}, {bind(guard.expected, f'guard{index}')})"
    return [comment, f"    if {test}: {fail}"]


HELPERS = {"GuardFailure": GuardFailure, "same_value": same_value}
