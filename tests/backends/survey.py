"""Run the op table on another array library and classify each case.

For every op and case of the table: forward mode (jvp) and reverse mode
(vjp) on the library's arrays, compared with the same call on NumPy arrays
(which tests/test_ops.py checks against finite differences). A case is
`ok` (equal), `dask computes` or `host computes` (equal, but Dask arrays
were computed while the derivative was built, because the function's value
itself is: Dask has no lazy version of a NumPy function and computes its
arguments (`np.linalg.eigh`, `np.sort`), or a SciPy function runs on the
host), `computes` (equal, but one of chainrule's rules computed Dask arrays
that the plain function leaves lazy: a bug), `error` (raised: not
available on that library) or `WRONG` (a value that differs: the one
outcome that must never happen).
"""

import contextlib
import traceback

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
        self.fallback = False  # whether one was Dask's fallback for a function it lacks
        counter = self

        class Callback(dask.callbacks.Callback):
            def _start(self, dsk):
                counter.count += 1
                counter.fallback |= any(f.name == "handle_nonmatching_names"
                                        for f in traceback.extract_stack())

        self.callback = Callback()

    def __enter__(self):
        self.callback.__enter__()
        return self

    def __exit__(self, *exc):
        self.callback.__exit__(*exc)


def _value_computes(lib_fun, lib_primals):
    """'dask computes' or 'host computes' if the function itself (not
    differentiated) computes Dask arrays, else None."""
    with _Computations() as counter:
        try:
            lib_fun(*lib_primals)
        except Exception:  # noqa: BLE001 - only whether it computed matters here
            pass
    if not counter.count:
        return None
    return "dask computes" if counter.fallback else "host computes"


def run_case(lib, op, k, mode):
    """('ok' | 'dask computes' | 'host computes' | 'computes' | 'error' | 'WRONG',
    detail) for one case in one mode."""
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
        detail = f"{counter.count} Dask computation(s) while building it"
        return _value_computes(lib_fun, lib_primals) or "computes", detail
    return "ok", ""


def survey(lib, modes=("fwd", "rev")):
    """{op name: {mode: (status, detail)}}, the worst case of each op's cases."""
    rank = {"ok": 0, "dask computes": 1, "host computes": 1, "computes": 2, "error": 3, "WRONG": 4}
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
