"""Jacobian plans: the expected product order on the standard chains, and
the planned Jacobian equal to jacfwd's, eagerly, under compile and under
differentiation."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.product_order import find_chain

rng = np.random.default_rng(5)
A = rng.standard_normal((10, 1000)) / 30   # 1000 -> 10
B = rng.standard_normal((1000, 10)) / 3    # 10 -> 1000


def wide_to_narrow(x):
    return np.tanh(A @ x)


def narrow_to_wide(x):
    return np.sin(B @ x)


def hourglass(x):  # 1000 -> 10 -> 1000
    return np.tanh(B @ np.tanh(A @ x))


def diamond(x):  # 10 -> 1000 -> 10
    return np.tanh(A @ np.sin(B @ x))


# fmt: off
CHAINS = [
    (wide_to_narrow, 1000, "reverse"),
    (narrow_to_wide, 10,   "forward"),
    (hourglass,      1000, "mixed"),
    (diamond,        10,   "forward"),
]
# fmt: on


@pytest.mark.parametrize("f, n, order", CHAINS, ids=[c[0].__name__ for c in CHAINS])
def test_plan_order(f, n, order):
    plan = cr.jacobian_plan(f, np.zeros(n))
    assert plan.order == order
    names = [a[0] for a in plan.alternatives]
    assert names[:2] == ["forward", "reverse"] and "mixed" in names
    costs = {name: flops for name, flops, _ in plan.alternatives}
    assert all(flops > 0 for flops in costs.values())
    assert all(peak > 0 for _, _, peak in plan.alternatives)
    assert costs[order] == min(costs.values())
    text = str(plan)
    assert "forward" in text and "reverse" in text and "<- chosen" in text


def test_hourglass_mixed_beats_both_pure_orders_by_far():
    costs = {n: f for n, f, _ in cr.jacobian_plan(hourglass, np.zeros(1000)).alternatives}
    assert costs["mixed"] < 0.6 * min(costs["forward"], costs["reverse"])


@pytest.mark.parametrize("f, n, order", CHAINS, ids=[c[0].__name__ for c in CHAINS])
def test_planned_jacobian_equals_jacfwd(f, n, order):
    x = rng.standard_normal(n)
    J = cr.jacobian(f)(x)
    np.testing.assert_allclose(J, cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cr.jacobian(f)(x), J)  # the cached decision


@pytest.mark.parametrize("f, n, order", CHAINS[2:], ids=[c[0].__name__ for c in CHAINS[2:]])
def test_planned_jacobian_under_compile(f, n, order):
    x = rng.standard_normal(n)
    compiled = cr.compile(cr.jacobian(f))
    np.testing.assert_allclose(compiled(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)


def test_mixed_plan_is_differentiable():
    A2, B2 = rng.standard_normal((3, 300)) / 10, rng.standard_normal((300, 3))
    W2 = rng.standard_normal((300, 300)) / 20

    def f(x):  # an hourglass with a square layer in its wide tail: mixed wins
        return np.sin(W2 @ np.tanh(B2 @ np.tanh(A2 @ x)))

    x = rng.standard_normal(300)
    assert cr.jacobian_plan(f, x).order == "mixed"
    loss = lambda J: np.sum(J ** 2)  # noqa: E731
    g = cr.grad(lambda x: loss(cr.jacobian(f)(x)))(x)
    expected = cr.grad(lambda x: loss(cr.jacfwd(f)(x)))(x)
    np.testing.assert_allclose(g, expected, rtol=1e-9, atol=1e-12)


def test_matrix_argument_and_output_shapes():
    W = rng.standard_normal((4, 3))
    f = lambda X: np.tanh(X @ W)  # noqa: E731
    X = rng.standard_normal((5, 4))
    J = cr.jacobian(f)(X)
    assert J.shape == (5, 3, 5, 4)
    np.testing.assert_allclose(J, cr.jacfwd(f)(X))


def test_chain_cuts():
    g = cr.trace(hourglass, np.zeros(1000))
    chain = find_chain(g)
    assert chain.sizes[0] == 1000 and chain.sizes[-1] == 1000 and 10 in chain.sizes


def test_untraceable_function_falls_back_to_sizes():
    def f(x):
        return x[:3] * 2 if x[0] > 0 else x[:3] ** 2
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    plan = cr.jacobian_plan(f, x)
    assert plan.order == "reverse" and "not traceable" in str(plan)
    np.testing.assert_allclose(cr.jacobian(f)(x), cr.jacfwd(f)(x))


def test_graph_without_cut_uses_a_pure_order():
    f = lambda x: np.sin(x) * np.cos(x[::-1])  # noqa: E731
    plan = cr.jacobian_plan(f, np.zeros(5))
    assert plan.order in ("forward", "reverse")
    x = rng.standard_normal(5)
    np.testing.assert_allclose(cr.jacobian(f)(x), cr.jacfwd(f)(x))


def test_nested_argument_or_output_keeps_its_structure():
    nested_out = lambda x: {"y": hourglass(x)}  # noqa: E731
    x = rng.standard_normal(1000)
    assert cr.jacobian_plan(nested_out, x).order == "mixed"
    J = cr.jacobian(nested_out)(x)
    assert set(J) == {"y"} and J["y"].shape == (1000, 1000)
    np.testing.assert_allclose(J["y"], cr.jacfwd(hourglass)(x), rtol=1e-10, atol=1e-12)
    nested_in = lambda xs: hourglass(xs[0])  # noqa: E731
    assert cr.jacobian_plan(nested_in, [x]).order == "mixed"
    J = cr.jacobian(nested_in)([x])
    assert isinstance(J, list) and J[0].shape == (1000, 1000)
    np.testing.assert_allclose(J[0], cr.jacfwd(hourglass)(x), rtol=1e-10, atol=1e-12)


def test_identity_and_constant_functions():
    x = rng.standard_normal(3)
    np.testing.assert_array_equal(cr.jacobian(lambda x: x)(x), np.eye(3))
    np.testing.assert_array_equal(cr.jacobian(lambda x: np.ones(2))(x), np.zeros((2, 3)))


def test_mixed_plan_through_library_handlers():
    from chainrule.scipy.special import logsumexp
    A3, B3 = rng.standard_normal((10, 400)) / 20, rng.standard_normal((400, 10))

    def f(x):
        h = np.tanh(A3 @ x)
        h = h - logsumexp(h) + np.linalg.norm(h, np.inf) + np.max(h)
        y = B3 @ h
        for _ in range(4):
            y = np.sin(y) * 0.9 + 0.01 * y ** 2
        return y

    x = rng.standard_normal(400)
    assert cr.jacobian_plan(f, x).order == "mixed"
    np.testing.assert_allclose(cr.jacobian(f)(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-13)


def test_small_functions_keep_a_pure_order():
    """The per-call cost of re-tracing and replaying outweighs a mixed order's
    savings on small Jacobians."""
    A4, B4 = rng.standard_normal((3, 40)), rng.standard_normal((40, 3))
    plan = cr.jacobian_plan(lambda x: np.tanh(B4 @ np.tanh(A4 @ x)), np.zeros(40))
    assert plan.order in ("forward", "reverse")
    costs = dict((name, flops) for name, flops, _ in plan.alternatives)
    assert costs["mixed"] > min(costs["forward"], costs["reverse"])


def test_equal_width_runs_are_merged():
    f = lambda x: np.sin(np.cos(np.tanh(B @ np.tanh(A @ x))) ** 2)  # noqa: E731
    chain = find_chain(cr.trace(f, np.zeros(1000)))
    assert chain.sizes == [1000, 10, 10, 1000, 1000]


def test_mixed_plan_under_vmap():
    A5, B5 = rng.standard_normal((3, 300)) / 10, rng.standard_normal((300, 3))
    W5 = rng.standard_normal((300, 300)) / 20
    f = lambda x: np.sin(W5 @ np.tanh(B5 @ np.tanh(A5 @ x)))  # noqa: E731
    xs = rng.standard_normal((2, 300))
    assert cr.jacobian_plan(f, xs[0]).order == "mixed"
    J = cr.vmap(cr.jacobian(f))(xs)
    np.testing.assert_allclose(J, np.stack([cr.jacfwd(f)(x) for x in xs]), rtol=1e-10, atol=1e-13)


def test_plan_is_made_once_per_signature(monkeypatch):
    from chainrule import product_order
    calls = []
    real = product_order.plan
    monkeypatch.setattr(product_order, "plan", lambda *a, **k: calls.append(1) or real(*a, **k))
    for f, n, order in CHAINS:
        calls.clear()
        jac = cr.jacobian(f)
        for _ in range(3):
            x = rng.standard_normal(n)
            np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
        assert len(calls) == 1, f.__name__
        jac(rng.standard_normal((n, 1)))  # another shape: another plan
        assert len(calls) == 2


def test_pure_plan_runs_the_pure_mode_itself(monkeypatch):
    from chainrule import jacobians
    seen = []
    real = jacobians.jacrev

    def spy(fun, argnums=0, **kw):
        inner = real(fun, argnums, **kw)
        return lambda *a, **k: seen.append(1) or inner(*a, **k)
    monkeypatch.setattr(jacobians, "jacrev", spy)
    jac = cr.jacobian(wide_to_narrow)
    x = rng.standard_normal(1000)
    jac(x), jac(x)
    assert len(seen) == 2


def test_mixed_plan_follows_a_changed_closure():
    """A mixed plan replays the graph's constants: it re-traces each call, so
    rebinding a captured array changes the Jacobian as it should."""
    weights = {"B": B.copy()}

    def f(x):
        return np.tanh(weights["B"] @ np.tanh(A @ x))

    jac = cr.jacobian(f)
    x = rng.standard_normal(1000)
    assert cr.jacobian_plan(f, x).order == "mixed"
    np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    weights["B"] = 2.0 * B
    np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    weights["B"][:] = 0.5 * B  # in place
    np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# series-parallel graphs: branches planned apart and merged

def _block(x):  # 1000 -> 10 -> 1000, with elementwise work on the wide side
    h = np.tanh(B @ np.tanh(A @ x))
    for _ in range(3):
        h = np.sin(h) * 0.9 + 0.01 * h ** 2
    return h


def residual(x):
    return x + _block(x)


def product_of_branches(x):
    return _block(x) * np.cos(x)


def stacked_residuals(x):
    x = x + _block(x)
    return x + _block(x)


def shared_work(x):  # the two operands share _block(x): not series-parallel
    h = _block(x)
    return h * np.sin(h + x)


def small_residual(x):  # 10 -> 1000 -> 10 with a skip: forward is best
    return x + np.tanh(A @ np.sin(B @ x))


# fmt: off
SERIES_PARALLEL = [
    (residual,            1000, "mixed"),
    (product_of_branches, 1000, "mixed"),
    (stacked_residuals,   1000, "mixed"),
    (small_residual,      10,   "forward"),
]
# fmt: on


@pytest.mark.parametrize("f, n, order", SERIES_PARALLEL, ids=[c[0].__name__ for c in SERIES_PARALLEL])
def test_series_parallel_plan(f, n, order):
    x = rng.standard_normal(n)
    plan = cr.jacobian_plan(f, x)
    assert plan.order == order
    if order == "mixed":
        assert "merge of branches" in str(plan)
        costs = {name: flops for name, flops, _ in plan.alternatives}
        assert costs["mixed"] < 0.8 * min(costs["forward"], costs["reverse"])
    np.testing.assert_allclose(cr.jacobian(f)(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)


def test_residual_branches_found():
    chain = find_chain(cr.trace(residual, np.zeros(1000)))
    assert chain.sizes == [1000, 1000]
    (br,) = chain.branches
    assert br.subs[0] is None and 10 in br.subs[1].sizes  # the skip, and the hourglass


def test_branches_sharing_work_stay_exact():
    chain = find_chain(cr.trace(shared_work, np.zeros(1000)))
    assert chain.branches[-1] is not None  # h and sin(h + x): both contain _block
    x = rng.standard_normal(1000)
    np.testing.assert_allclose(cr.jacobian(shared_work)(x), cr.jacfwd(shared_work)(x),
                               rtol=1e-10, atol=1e-12)


def test_several_inputs_and_outputs_are_planned_together():
    def f(a, b):
        return {"y": _block(a) + np.sin(b), "s": (np.sum(a * b), _block(b)[:5])}
    a, b = rng.standard_normal(1000), rng.standard_normal(1000)
    plan = cr.jacobian_plan(f, a, b, argnums=(0, 1))
    assert plan.order == "mixed" and plan.chain[0] == 2000 and plan.chain[-1] == 1006
    J = cr.jacobian(f, argnums=(0, 1))(a, b)
    R = cr.jacfwd(f, argnums=(0, 1))(a, b)
    assert set(J) == {"y", "s"} and isinstance(J["s"], tuple) and isinstance(J["y"], tuple)
    for got, want in [(J["y"][0], R["y"][0]), (J["y"][1], R["y"][1]), (J["s"][0][1], R["s"][0][1]),
                      (J["s"][1][0], R["s"][1][0])]:
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_several_inputs_of_different_dtypes_fall_back():
    f = lambda a, b: hourglass(a) * b[0]  # noqa: E731
    a, b = rng.standard_normal(1000), np.ones(1, np.float32)
    assert cr.jacobian_plan(f, a, b, argnums=(0, 1)).order in ("forward", "reverse")
    J = cr.jacobian(f, argnums=(0, 1))(a, b)
    np.testing.assert_allclose(J[0], cr.jacfwd(f, argnums=(0, 1))(a, b)[0])


def test_branch_plan_under_compile_and_differentiation():
    x = rng.standard_normal(1000)
    np.testing.assert_allclose(cr.compile(cr.jacobian(residual))(x), cr.jacfwd(residual)(x),
                               rtol=1e-10, atol=1e-12)
    A6, B6 = rng.standard_normal((3, 400)) / 20, rng.standard_normal((400, 3))

    def g(x):
        h = np.tanh(B6 @ np.tanh(A6 @ x))
        for _ in range(3):
            h = np.sin(h) * 0.9 + 0.01 * h ** 2
        return x + h
    y = rng.standard_normal(400)
    assert cr.jacobian_plan(g, y).order == "mixed"
    loss = lambda J: np.sum(np.sin(J))  # noqa: E731
    np.testing.assert_allclose(cr.grad(lambda y: loss(cr.jacobian(g)(y)))(y),
                               cr.grad(lambda y: loss(cr.jacfwd(g)(y)))(y), rtol=1e-9, atol=1e-12)


def test_mixed_plan_is_remade_when_the_graph_changes():
    state = {"extra": False}

    def f(x):
        y = np.tanh(B @ np.tanh(A @ x))
        return np.sin(y) if state["extra"] else y

    jac = cr.jacobian(f)
    x = rng.standard_normal(1000)
    assert cr.jacobian_plan(f, x).order == "mixed"
    np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    state["extra"] = True
    np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    state["extra"] = False
    np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("f", [
    lambda x: x + _block(x),
    lambda x: _block(x) + x,
    lambda x: x - _block(x),
    lambda x: _block(x) - x,
    lambda x: _block(x) - np.sin(_block(x)[::-1]),
    lambda x: np.maximum(_block(x), x),  # a merge that is not a sum: pushed as tangents
], ids=["x+f", "f+x", "x-f", "f-x", "f-g", "max"])
def test_every_merge_of_a_skip_connection(f):
    x = rng.standard_normal(1000)
    plan = cr.jacobian_plan(f, x)
    assert plan.order == "mixed" and "merge of branches" in str(plan)
    np.testing.assert_allclose(cr.jacobian(f)(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)


def test_mixed_plan_keeps_float32():
    f = lambda x: np.tanh(B.astype(np.float32) @ np.tanh(A.astype(np.float32) @ x))  # noqa: E731
    x = rng.standard_normal(1000).astype(np.float32)
    assert cr.jacobian_plan(f, x).order == "mixed"
    J = cr.jacobian(f)(x)
    assert J.dtype == np.float32
    np.testing.assert_allclose(J, cr.jacfwd(f)(x), rtol=1e-4, atol=1e-6)
    r = lambda x: x + f(x)  # noqa: E731
    assert cr.jacobian(r)(x).dtype == np.float32


A2 = rng.standard_normal((10, 1000)) / 30
B2 = rng.standard_normal((1000, 10)) / 3


def wide_to_narrow_branches(x):  # 1000 -> 10 along two branches, added
    return np.tanh(A @ x) + np.sin(A2 @ x) * np.cos(A @ x)


def narrow_to_wide_branches(x):  # 10 -> 1000 along two branches, multiplied
    return np.sin(B @ x) * np.tanh(B2 @ x)


def hourglass_branches(x):  # 1000 -> 10 -> 1000 on one branch, a skip on the other
    return np.tanh(B @ np.tanh(A @ x)) * np.cos(x)


def diamond_branches(x):  # 10 -> 1000 -> 10 on two branches
    return np.tanh(A @ np.sin(B @ x)) + np.tanh(A2 @ np.cos(B2 @ x))


# fmt: off
SP_SHAPES = [
    (wide_to_narrow_branches, 1000, "reverse"),
    (narrow_to_wide_branches, 10,   "forward"),
    (hourglass_branches,      1000, "mixed"),
    (diamond_branches,        10,   "forward"),
]
# fmt: on


@pytest.mark.parametrize("f, n, order", SP_SHAPES, ids=[c[0].__name__ for c in SP_SHAPES])
def test_series_parallel_shapes_of_the_issue(f, n, order):
    x = rng.standard_normal(n)
    plan = cr.jacobian_plan(f, x)
    assert plan.order == order
    costs = {name: flops for name, flops, _ in plan.alternatives}
    assert costs[order] == min(costs.values())
    np.testing.assert_allclose(cr.jacobian(f)(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)


# --------------------------------------------------------------------------
# cached plans: traces counted on repeated calls with new values

@pytest.fixture
def traces(monkeypatch):
    """The number of times fun has been traced (graph.trace.trace calls)."""
    import sys
    module = sys.modules["chainrule.graph.trace"]
    real, count = module.trace, []
    monkeypatch.setattr(module, "trace", lambda *a, **k: count.append(1) or real(*a, **k))
    return count


def _several(a, b):
    return {"y": _block(a) + np.sin(b), "s": (np.sum(a * b), _block(b)[:5])}


@pytest.mark.parametrize("f, n, order", CHAINS + SERIES_PARALLEL, ids=[c[0].__name__ for c in CHAINS + SERIES_PARALLEL])
def test_a_cached_plan_does_not_retrace(f, n, order, traces):
    jac = cr.jacobian(f)
    xs = [rng.standard_normal(n) for _ in range(4)]
    kept = [x.copy() for x in xs] + [A.copy(), B.copy()]
    Js = [jac(x) for x in xs]  # the later ones from compiled code, for a mixed plan
    assert len(traces) == 1, f.__name__  # the plan's, on the first call
    for x, J in zip(xs, Js):  # and no result overwritten by a later call
        np.testing.assert_allclose(J, cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    for was, now in zip(kept, xs + [A, B]):  # nor an argument or a captured array
        assert np.array_equal(was, now)


def test_a_cached_mixed_plan_of_several_arguments_does_not_retrace(traces):
    jac = cr.jacobian(_several, argnums=(0, 1))
    for _ in range(3):
        a, b = rng.standard_normal(1000), rng.standard_normal(1000)
        J, R = jac(a, b), cr.jacfwd(_several, argnums=(0, 1))(a, b)
        np.testing.assert_allclose(J["y"][0], R["y"][0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(J["s"][1][1], R["s"][1][1], rtol=1e-10, atol=1e-12)
    assert len(traces) == 1


class _Layer:
    def __init__(self, W, scale):
        self.W, self.scale = W, scale

    def __call__(self, h):
        return self.scale * np.tanh(self.W @ h)


def test_a_cached_mixed_plan_follows_what_fun_captured(traces):
    """Rebinding or changing anything fun reads (an attribute, a global
    number, an array entry read as a Python number, a dict entry) is seen:
    fun is traced again, once, and the Jacobian follows."""
    layer = _Layer(B.copy(), 1.0)
    coef = np.array([1.0, 0.0])
    state = {"extra": False}

    def f(x):
        y = layer(np.tanh(A @ x)) * coef[0]  # coef[0]: a NumPy scalar, a literal in the graph
        return np.sin(y) if state["extra"] else y

    jac = cr.jacobian(f)
    x = rng.standard_normal(1000)
    assert cr.jacobian_plan(f, x).order == "mixed"
    traces.clear()
    changes = [lambda: None, lambda: setattr(layer, "scale", 2.0), lambda: setattr(layer, "W", 0.5 * B),
               lambda: layer.W.__setitem__((0, 0), 3.0), lambda: coef.__setitem__(0, -2.0),
               lambda: state.update(extra=True), lambda: state.update(extra=False)]
    for k, change in enumerate(changes):
        change()
        for _ in range(2):  # the change is seen once; the next call replays
            x = rng.standard_normal(1000)
            np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
        assert len(traces) == k + 1, k


def test_state_the_snapshot_cannot_see_is_traced_every_call(traces):
    class Slotted:  # no __dict__: not walked, so never trusted
        __slots__ = ("W",)
    holder = Slotted()
    holder.W = B.copy()

    def f(x):
        return np.tanh(holder.W @ np.tanh(A @ x))

    jac = cr.jacobian(f)
    x = rng.standard_normal(1000)
    np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    holder.W = 2.0 * B
    np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    assert len(traces) == 2


def _branchy(x):  # the branch depends on the argument's value
    h = np.tanh(A @ x)
    return np.tanh(B @ h) if np.sum(x) > 0 else np.sin(B @ h) ** 2


def test_a_branch_on_the_argument_never_gets_a_stale_plan():
    x = np.abs(rng.standard_normal(1000))
    jac = cr.jacobian(_branchy)
    for y in (x, -x, x, -x):
        np.testing.assert_allclose(jac(y), cr.jacfwd(_branchy)(y), rtol=1e-10, atol=1e-12)
    compiled = cr.compile(cr.jacobian(_branchy))
    for y in (x, -x, x):
        np.testing.assert_allclose(compiled(y), cr.jacfwd(_branchy)(y), rtol=1e-10, atol=1e-12)


def test_a_cached_mixed_plan_follows_the_other_arguments(traces):
    def f(x, W):
        return np.tanh(W @ np.tanh(A @ x))

    jac = cr.jacobian(f)
    x, W = rng.standard_normal(1000), B.copy()
    for _ in range(2):
        np.testing.assert_allclose(jac(x, W), cr.jacfwd(f)(x, W), rtol=1e-10, atol=1e-12)
    assert len(traces) == 1
    W2 = 2.0 * B
    np.testing.assert_allclose(jac(x, W2), cr.jacfwd(f)(x, W2), rtol=1e-10, atol=1e-12)
    W2 *= 0.5
    np.testing.assert_allclose(jac(x, W2), cr.jacfwd(f)(x, W2), rtol=1e-10, atol=1e-12)
    assert len(traces) == 3


def test_a_compiled_mixed_plan_still_runs_under_transformations():
    f = lambda x: np.sin(B @ np.tanh(A @ x))  # noqa: E731
    jac = cr.jacobian(f)
    xs = rng.standard_normal((3, 1000))
    for x in xs:
        np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cr.vmap(jac)(xs[:2]), np.stack([cr.jacfwd(f)(x) for x in xs[:2]]),
                               rtol=1e-10, atol=1e-12)
    loss = lambda J: np.sum(np.sin(J[:5]))  # noqa: E731
    np.testing.assert_allclose(cr.grad(lambda x: loss(jac(x)))(xs[0]),
                               cr.grad(lambda x: loss(cr.jacfwd(f)(x)))(xs[0]), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cr.compile(jac)(xs[1]), cr.jacfwd(f)(xs[1]), rtol=1e-10, atol=1e-12)
    f32 = lambda x: np.tanh(B.astype(np.float32) @ np.tanh(A.astype(np.float32) @ x))  # noqa: E731
    jac32 = cr.jacobian(f32)
    for x in xs.astype(np.float32):
        J = jac32(x)
        assert J.dtype == np.float32
        np.testing.assert_allclose(J, cr.jacfwd(f32)(x), rtol=1e-4, atol=1e-6)


# --------------------------------------------------------------------------
# stacked residual blocks: each later block a low-rank update

@pytest.mark.parametrize("merge", [
    lambda x, f: x + f, lambda x, f: x - f, lambda x, f: f - x, lambda x, f: f + x,
], ids=["x+f", "x-f", "f-x", "f+x"])
@pytest.mark.parametrize("blocks", [2, 3])
def test_stacked_residual_blocks_are_low_rank_updates(merge, blocks):
    def f(x):
        for _ in range(blocks):
            x = merge(x, _block(x))
        return x

    x = rng.standard_normal(1000)
    plan = cr.jacobian_plan(f, x)
    assert plan.order == "mixed" and plan.chain == [1000] * (blocks + 1)
    step, updates = plan.step, 0
    while step.kind == "update":  # J[0:b] = (skip +- L R) @ J[0:b-1], down to the first block
        assert step.hi == step.mid + 1 and step.right.hi == step.mid
        updates, step = updates + 1, step.right
    assert updates == blocks - 1 and step.kind == "branches"
    assert "a skip connection plus rank 10" in str(plan)
    costs = {name: flops for name, flops, _ in plan.alternatives}
    assert costs["mixed"] < 0.7 * min(costs["forward"], costs["reverse"])
    jac = cr.jacobian(f)
    for _ in range(3):  # the replay, then compiled code
        x = rng.standard_normal(1000)
        np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)


def test_stacked_blocks_rebound_to_a_new_graph(traces):
    Bs = B.copy()

    def f(x):
        for _ in range(2):
            x = x - np.tanh(Bs @ np.tanh(A @ x)) ** 2
        return x

    jac = cr.jacobian(f)
    assert cr.jacobian_plan(f, np.zeros(1000)).step.kind == "update"
    for scale in (1.0, 1.0, 1.0, 0.5, 0.5):  # the replay, compiled code, then a new graph
        Bs[...] = scale * B
        x = rng.standard_normal(1000)
        np.testing.assert_allclose(jac(x), cr.jacfwd(f)(x), rtol=1e-10, atol=1e-12)
    assert len(traces) == 1 + 1 + 1  # jacobian_plan, the first call, the change
