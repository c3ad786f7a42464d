"""Snapshots of what a function captured (chainrule.captures): every kind
of change is seen, and what cannot be accounted for gives no snapshot."""

import dataclasses
import functools
import types

import numpy as np
import pytest

import chainrule as cr
from chainrule.captures import Snapshot

W = np.ones(3)
SCALE = 2.0


def uses_globals(x):
    return SCALE * np.tanh(W * x)


def test_rebinding_a_global_is_seen():
    global SCALE, W
    snap = Snapshot.take(uses_globals)
    assert snap.holds(uses_globals)
    old_scale, old_w = SCALE, W
    try:
        SCALE = 3.0
        assert not snap.holds(uses_globals)
        SCALE = old_scale
        assert snap.holds(uses_globals)
        W = W.copy()  # equal contents, another array: the graph held the old one
        assert not snap.holds(uses_globals)
    finally:
        SCALE, W = old_scale, old_w
    W[0] = 5.0  # in place
    try:
        assert not snap.holds(uses_globals)
    finally:
        W[0] = 1.0
    assert snap.holds(uses_globals)


@dataclasses.dataclass
class Layer:
    W: np.ndarray
    scale: float = 1.0

    def __call__(self, x):
        return self.scale * np.tanh(self.W @ x)


class Scaled(Layer):
    factor = 2.0

    def __call__(self, x):
        return self.factor * super().__call__(x)


@pytest.mark.parametrize("change", [
    lambda m, mod: setattr(m, "scale", 2.0),
    lambda m, mod: setattr(m, "W", np.eye(2)),
    lambda m, mod: m.W.__setitem__((0, 1), 1.0),
    lambda m, mod: setattr(Scaled, "factor", 3.0),
    lambda m, mod: setattr(mod, "offset", 1.0),
], ids=["attribute", "array attribute", "in place", "class attribute", "module attribute"])
def test_changes_through_objects_classes_and_modules_are_seen(change):
    mod = types.ModuleType("user_settings")
    mod.offset = 0.0
    m = Scaled(np.eye(2))
    helper = functools.partial(lambda m, x: m(x) + mod.offset, m)
    f = cr.grad(lambda x: np.sum(helper(x)))  # walked through chainrule's wrapper
    snap = Snapshot.take(f)
    assert snap is not None and snap.holds(f)
    try:
        change(m, mod)
        assert not snap.holds(f)
    finally:
        Scaled.factor = 2.0


def test_non_differentiated_arguments_are_part_of_it():
    f = lambda x, W: W @ x  # noqa: E731
    W1 = np.eye(2)
    snap = Snapshot.take(f, (W1,))
    assert snap.holds(f, (W1,)) and not snap.holds(f, (np.eye(2),)) and not snap.holds(f, (W1, 1))


@pytest.mark.parametrize("fun", [
    lambda x: x * np.random.rand(),
    lambda x: x * np.random.default_rng(0).normal(),
    lambda x: x * getattr(np, "pi"),
    lambda x: x + sum(v for v in globals().values() if isinstance(v, float)),
], ids=["np.random", "default_rng", "getattr", "globals"])
def test_code_reading_hidden_state_gets_no_snapshot(fun):
    assert Snapshot.take(fun) is None


def test_objects_it_cannot_walk_give_no_snapshot():
    class Slotted:
        __slots__ = ("W",)
    s = Slotted()
    s.W = np.ones(2)
    rng = np.random.default_rng(0)
    assert Snapshot.take(lambda x: s.W * x) is None
    assert Snapshot.take(lambda x: rng.normal() * x) is None
    assert Snapshot.take(lambda x: x, (np.array([object()]),)) is None
    big = [float(k) for k in range(5000)]
    assert Snapshot.take(lambda x: x * big[0]) is None


def test_numbers_compare_by_value_and_nan_by_itself():
    state = {"a": float("nan"), "n": 3}
    f = lambda x: x * state["a"] + state["n"]  # noqa: E731
    snap = Snapshot.take(f)
    assert snap.holds(f)
    state["n"] = 3.0  # equal, but another type: a literal of another dtype
    assert not snap.holds(f)


def test_a_snapshot_does_not_keep_its_function_alive():
    import gc
    import weakref
    f = lambda x: W * x  # noqa: E731
    ref, snap = weakref.ref(f), Snapshot.take(f)
    assert snap.holds(f)
    del f
    gc.collect()
    assert ref() is None


def test_code_run_in_a_copy_of_a_library_namespace_is_still_walked():
    import chainrule.captures as module
    namespace = dict(vars(module), state={"a": 1.0})  # as doctests run
    exec("f = lambda x: state['a'] * x", namespace)
    f = namespace["f"]
    snap = Snapshot.take(f)
    namespace["state"]["a"] = 2.0
    assert not snap.holds(f)
