"""Run the op table on another array library and classify each case.

For every op and case of the table: forward mode (jvp) and reverse mode
(vjp) on the library's arrays, compared with the same call on NumPy arrays
(which tests/test_ops.py checks against finite differences). A case is
`ok` (equal), `computes` (equal, but Dask arrays were computed while the
function and its derivative were built: not lazy), `error` (raised: not
available on that library) or `WRONG` (a value that differs: the one
outcome that must never happen).
"""

import contextlib

from dataclasses import replace

import numpy as np

import chainrule as cr
from chainrule.core.tree import tree_flatten, tree_unflatten

from ..ops.spec import problem
from ..ops.table import OPS


def _leaves(tree):
    return tree_flatten(tree)[0]


def _on_library(lib, op, k):
    """Case k of op with every floating, complex or boolean array argument on
    `lib` (as a user of that library would pass them; integer index arrays
    stay NumPy arrays, except on libraries whose adapter sets
    `moves_integers`), as `(fun, primals)`."""
    case = op.cases[k]
    kinds = "fcbiu" if getattr(lib, "moves_integers", False) else "fcb"
    moved = tuple(lib.asarray(a) if isinstance(a, np.ndarray) and a.dtype.kind in kinds else a
                  for a in case)
    return problem(replace(op, cases=(moved,)), 0)


class _Computations:
    """Counts the Dask graphs handed to a local scheduler (each one is a computation)."""

    def __init__(self):
        import dask.callbacks

        self.count = 0
        counter = self

        class Callback(dask.callbacks.Callback):
            def _start(self, dsk):
                counter.count += 1

        self.callback = Callback()

    def __enter__(self):
        self.callback.__enter__()
        return self

    def __exit__(self, *exc):
        self.callback.__exit__(*exc)


def run_case(lib, op, k, mode):
    """('ok' | 'computes' | 'error' | 'WRONG', detail) for one case in one mode."""
    fun, primals = problem(op, k)
    lib_fun, lib_primals = _on_library(lib, op, k)
    rng = np.random.default_rng(k + 7)
    dirs = tuple(rng.standard_normal(np.shape(p)) for p in primals)
    counter = _Computations() if lib.name == "dask" else contextlib.nullcontext()
    try:
        if mode == "fwd":
            _, expected = cr.jvp(fun, primals, dirs)
            with counter:
                _, got = cr.jvp(lib_fun, lib_primals, tuple(map(lib.asarray, dirs)))
        else:
            out, f_vjp = cr.vjp(fun, *primals)
            leaves, spec = tree_flatten(out)
            u = tree_unflatten(spec, [rng.standard_normal(np.shape(o)) for o in leaves])
            expected = f_vjp(u)
            with counter:
                _, g_vjp = cr.vjp(lib_fun, *lib_primals)
                got = g_vjp(tree_unflatten(spec, [lib.asarray(x) for x in tree_flatten(u)[0]]))
    except Exception as e:  # noqa: BLE001 - the survey records what was raised
        return "error", f"{type(e).__name__}: {str(e).splitlines()[0][:120]}"
    try:
        got_leaves, want_leaves = _leaves(got), _leaves(expected)
        for a, b in zip(got_leaves, want_leaves):
            a = lib.to_numpy(a)
            scale = max(np.max(np.abs(b), initial=0.0), 1.0)
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11 * scale)
        if len(got_leaves) != len(want_leaves):
            return "WRONG", "a different number of outputs"
    except Exception as e:  # noqa: BLE001 - a computation that fails late is an error, not a wrong value
        if isinstance(e, AssertionError):
            return "WRONG", str(e).splitlines()[0]
        return "error", f"{type(e).__name__} when computed: {str(e).splitlines()[0][:120]}"
    if getattr(counter, "count", 0):
        return "computes", f"{counter.count} Dask computation(s) while building it"
    return "ok", ""


def survey(lib, modes=("fwd", "rev")):
    """{op name: {mode: (status, detail)}}, the worst case of each op's cases."""
    rank = {"ok": 0, "computes": 1, "error": 2, "WRONG": 3}
    table = {}
    for op in OPS:
        row = table.setdefault(op.name, {})
        for mode in modes:
            if mode not in op.modes:
                continue
            worst = ("ok", "")
            for k in range(len(op.cases)):
                status = run_case(lib, op, k, mode)
                if rank[status[0]] > rank[worst[0]]:
                    worst = status
            row[mode] = worst
    return table
