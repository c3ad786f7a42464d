"""The tutorial's cost table for the MNIST network, predicted and measured.

Five ways to get the gradient of the loss on one image with respect to the
weights, as in the tutorial (m weights in layer one, l in layer two, n
hidden units, k outputs; P parameters in all, biases included):

| operation | tutorial's cost |
| --- | --- |
| function value | m + l |
| reverse mode, J1^T (J2^T J3^T) | mn + nk |
| forward-accumulated Jacobians, (J1^T J2^T) J3^T | mnk + mk, and memory |
| forward mode, one JVP per parameter | m (m + l) |
| central differences, two evaluations per parameter | m (m + l), and accuracy |

Beside each formula (evaluated on the network's shapes) the table gives
the floating-point operations chainrule's cost model counts on the traced
graph of that computation, the measured time, the peak memory and the
error against the reverse-mode gradient. Rows too long to run in full are
timed on a sample (of directions, or of layer-one weights) and extrapolated;
the table says so.
"""

import dataclasses
import time
import tracemalloc

import numpy as np

import chainrule as cr
from chainrule.graph import graph_cost, trace

from .mnist_mlp import loss


@dataclasses.dataclass
class Row:
    """One line of the table. `seconds` is for the whole gradient (the
    function value's own for the first row), extrapolated from `sample` of
    `total` pieces when `sample < total`. `error` is the largest deviation
    from the reverse-mode gradient, relative to its largest entry (None:
    not a gradient, 0.0: the reference). `memory` is the measured peak in
    bytes of one piece, `memory_full` the peak the whole computation needs."""

    name: str
    formula: str
    formula_count: int
    flops: int
    seconds: float
    error: object
    memory: int
    memory_full: int
    sample: int = 1
    total: int = 1

    @property
    def extrapolated(self):
        return self.sample < self.total


@dataclasses.dataclass
class Shapes:
    """The tutorial's symbols for a network [W1 (d x n), b1, W2 (n x k), b2]."""

    m: int  # weights in layer one (d n)
    n: int  # hidden units
    k: int  # outputs
    l: int  # weights in layer two (n k)
    P: int  # all parameters

    @classmethod
    def of(cls, params):
        W1, _, W2, _ = params
        return cls(W1.size, W1.shape[1], W2.shape[1], W2.size, sum(p.size for p in params))


def seconds_per_call(fn, min_time=0.2, repeats=3):
    """The best, over `repeats` rounds of at least `min_time` seconds, of
    the mean seconds per call of `fn()`.

    Example:
        >>> seconds_per_call(lambda: None, min_time=0.001) < 0.001
        True
    """
    fn()
    calls, best = 1, float("inf")
    for _ in range(repeats):
        while True:
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
            calls = max(calls * 2, int(calls * min_time / max(elapsed, 1e-9)))
        best = min(best, elapsed / calls)
    return best


def peak_memory(fn):
    """Peak bytes allocated (as tracemalloc sees them, NumPy's arrays
    included) while `fn()` runs, above what was allocated before.

    Example:
        >>> peak_memory(lambda: np.ones(10**6)) >= 8 * 10**6
        True
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - before
        del result
    finally:
        if started:
            tracemalloc.stop()
    return peak


def relative_error(approx, exact, scale):
    """max |approx - exact| / scale (scale: the reference's largest entry)."""
    return float(np.max(np.abs(np.asarray(approx) - np.asarray(exact)))) / scale


def flat_view(params):
    """Views of the parameter arrays as one vector each, and their offsets
    in the concatenated parameter vector."""
    offsets = np.cumsum([0] + [p.size for p in params])
    return [p.reshape(-1) for p in params], offsets


def locate(index, offsets):
    """(array number, position in it) of entry `index` of the concatenated vector."""
    a = int(np.searchsorted(offsets, index, side="right") - 1)
    return a, int(index - offsets[a])


def forward_accumulation_flops(s):
    """Operations the cost model counts for (J1^T J2^T) J3^T with J1^T of
    shape (s.m, s.n), J2^T (s.n, s.k), J3^T (s.k,).

    Tracing runs each operation on zeros of the traced shapes, which for
    m = 10^5 would be the very product whose cost is asked. The count is
    linear in m, so it is traced at m = 1, 2, 3 and extended (the third
    point checks the linearity).

    Example:
        >>> forward_accumulation_flops(Shapes(m=1000, n=100, k=10, l=1000, P=2110))
        2020000
    """
    def product(J1T, J2T, J3T):
        return (J1T @ J2T) @ J3T

    def count(m):
        args = [np.zeros((m, s.n)), np.zeros((s.n, s.k)), np.zeros(s.k)]
        return graph_cost(trace(product, *args)).flops
    c1, c2, c3 = count(1), count(2), count(3)
    if c3 - c2 != c2 - c1:
        raise AssertionError("the cost model's count of the product is not linear in m")
    return c1 + (c2 - c1) * (s.m - 1)


def layer_jacobians(params, x, onehot, rows):
    """The tutorial's explicit Jacobians for one image x (a 1 x d row):
    J1 = d hidden / d W1[rows] (n x len(rows) n: the slice of layer-one
    weights fed by inputs `rows`), J2 = d logits / d hidden (k x n) and
    J3 = d loss / d logits (k,), each computed with cr.jacobian / cr.grad."""
    W1, b1, W2, b2 = params
    r0, r1 = rows.start, rows.stop

    def hidden_of(slice_):  # the hidden layer as a function of W1[r0:r1]
        pre = x[:, :r0] @ W1[:r0] + x[:, r0:r1] @ slice_ + x[:, r1:] @ W1[r1:] + b1
        return np.tanh(pre)[0]

    hidden = np.tanh(x @ W1 + b1)[0]
    J1 = cr.jacobian(hidden_of)(W1[r0:r1]).reshape(len(hidden), -1)
    J2 = cr.jacobian(lambda h: h @ W2 + b2)(hidden)
    logits = hidden @ W2 + b2

    def loss_of_logits(z):
        z = z - np.max(z)
        return -np.sum(onehot[0] * (z - np.log(np.sum(np.exp(z)))))
    J3 = cr.grad(loss_of_logits)(logits)
    return J1, J2, J3


def measure(params, x, onehot, directions=200, weight_rows=10, min_time=0.2, seed=0,
            h=1e-5, memory_budget=2**28):
    """The table's rows for the loss on one image (x: 1 x d, onehot: 1 x 10).

    `directions` parameters, drawn at random, are used for forward mode and
    central differences; the forward-accumulated product runs in full when
    its J1^T fits in `memory_budget` bytes, else on the layer-one weights
    fed by the first `weight_rows` inputs. Also returns the reverse-mode
    gradient and the sampled entries, for checking.

    Example:
        >>> from chainrule.demo.mnist_mlp import init_params
        >>> rng = np.random.default_rng(0)
        >>> p = init_params(rng, 8, 16)
        >>> rows, _ = measure(p, rng.standard_normal((1, 8)), np.eye(10)[[3]], directions=5,
        ...                   weight_rows=2, min_time=0.001)
        >>> [r.name for r in rows]  # doctest: +NORMALIZE_WHITESPACE
        ['function value', 'reverse mode', 'forward-accumulated Jacobians', 'forward mode',
         'central differences']
        >>> rows[3].error < 1e-12 and rows[4].error < 1e-6
        True
    """
    s = Shapes.of(params)
    rng = np.random.default_rng(seed)
    params = [np.array(p, dtype=np.float64) for p in params]
    value_fn = cr.compile(loss)
    grad_fn = cr.compile(cr.value_and_grad(loss))

    def jvp_fn(params, x, onehot, tangents):
        return cr.jvp(lambda q: loss(q, x, onehot), (params,), (tangents,))
    jvp_fn = cr.compile(jvp_fn)

    value_fn(params, x, onehot)
    _, grads = grad_fn(params, x, onehot)
    g_flat = np.concatenate([g.reshape(-1) for g in grads])
    scale = float(np.max(np.abs(g_flat)))
    rows = []

    # function value
    rows.append(Row("function value", "m + l", s.m + s.l, graph_cost(value_fn.graph).flops,
                    seconds_per_call(lambda: value_fn(params, x, onehot), min_time), None,
                    peak_memory(lambda: value_fn(params, x, onehot)), 0))
    rows[-1].memory_full = rows[-1].memory

    # reverse mode: the reference
    rows.append(Row("reverse mode", "mn + nk", s.m * s.n + s.n * s.k, graph_cost(grad_fn.graph).flops,
                    seconds_per_call(lambda: grad_fn(params, x, onehot), min_time), 0.0,
                    peak_memory(lambda: grad_fn(params, x, onehot)), 0))
    rows[-1].memory_full = rows[-1].memory

    # forward-accumulated Jacobian products, on layer one's weights
    itemsize = 8
    need = (s.m * s.n + s.m * s.k + s.n * s.k + s.k) * itemsize
    d = params[0].shape[0]
    fed = d if s.m * s.n * itemsize <= memory_budget else max(1, min(weight_rows, d))
    J1, J2, J3 = layer_jacobians(params, x, onehot, slice(0, fed))
    J1T, J2T, J3T = J1.T.copy(), J2.T.copy(), J3.copy()

    def product():
        return (J1T @ J2T) @ J3T
    piece = J1T.shape[0]
    seconds = seconds_per_call(product, min_time) * s.m / piece
    error = relative_error(product(), grads[0][:fed].reshape(-1), scale)
    rows.append(Row("forward-accumulated Jacobians", "mnk + mk", s.m * s.n * s.k + s.m * s.k,
                    forward_accumulation_flops(s), seconds, error,
                    peak_memory(product) + J1T.nbytes + J2T.nbytes + J3T.nbytes, need,
                    sample=piece, total=s.m))

    # forward mode and central differences: one parameter at a time, sampled
    picks = np.sort(rng.choice(s.P, size=min(directions, s.P), replace=False))
    flat_params, offsets = flat_view(params)
    tangents = [np.zeros_like(p) for p in params]
    flat_tangents, _ = flat_view(tangents)
    where = [locate(i, offsets) for i in picks]
    jvps, fds = np.empty(len(picks)), np.empty(len(picks))

    def forward_mode():
        for j, (a, i) in enumerate(where):
            flat_tangents[a][i] = 1.0
            jvps[j] = jvp_fn(params, x, onehot, tangents)[1]
            flat_tangents[a][i] = 0.0

    def central_differences():
        for j, (a, i) in enumerate(where):
            keep = flat_params[a][i]
            step = h * max(1.0, abs(keep))
            flat_params[a][i] = keep + step
            up = value_fn(params, x, onehot)
            flat_params[a][i] = keep - step
            down = value_fn(params, x, onehot)
            flat_params[a][i] = keep
            fds[j] = (up - down) / (2 * step)

    n = len(picks)
    forward_mode()
    seconds = seconds_per_call(forward_mode, min_time, repeats=1) * s.P / n
    rows.append(Row("forward mode", "m (m + l)", s.m * (s.m + s.l),
                    s.P * graph_cost(jvp_fn.graph).flops, seconds,
                    relative_error(jvps, g_flat[picks], scale),
                    peak_memory(lambda: jvp_fn(params, x, onehot, tangents)), 0, sample=n, total=s.P))
    rows[-1].memory_full = rows[-1].memory
    central_differences()
    seconds = seconds_per_call(central_differences, min_time, repeats=1) * s.P / n
    rows.append(Row("central differences", "m (m + l)", s.m * (s.m + s.l),
                    2 * s.P * rows[0].flops, seconds, relative_error(fds, g_flat[picks], scale),
                    rows[0].memory, rows[0].memory, sample=n, total=s.P))
    return rows, dict(grad=g_flat, picks=picks, jvp=jvps.copy(), central=fds.copy(), scale=scale)


def _bytes(b):
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if b >= size:
            return f"{b / size:.1f} {unit}"
    return f"{b} B"


def _seconds(t):
    if t >= 1:
        return f"{t:.2f} s"
    if t >= 1e-3:
        return f"{t * 1e3:.2f} ms"
    return f"{t * 1e6:.1f} us"


def format_table(rows, shapes):
    """The rows as an aligned text table with a legend.

    Example:
        >>> s = Shapes(m=100, n=10, k=2, l=20, P=132)
        >>> print(format_table([Row("function value", "m + l", 120, 300, 1e-5, None, 800, 800)], s))
        ... # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
        m = 100 weights in layer one, n = 10 hidden units, k = 2 outputs, l = 20 weights in layer two; P = 132 parameters
        operation       tutorial's cost  =  flops (cost model)  time  memory  error vs reverse
        function value  m + l  1.2e+02  3.0e+02  10.0 us  800 B  -
        the tutorial's counts ...
        time: ...
    """
    header = ("operation", "tutorial's cost", "=", "flops (cost model)", "time", "memory",
              "error vs reverse")
    lines = []
    for r in rows:
        memory = _bytes(r.memory_full)
        if r.extrapolated and r.memory_full != r.memory:
            memory = f"{_bytes(r.memory_full)} (ran in {_bytes(r.memory)})"
        error = "-" if r.error is None else "reference" if r.name == "reverse mode" else f"{r.error:.1e}"
        time_text = _seconds(r.seconds) + (" *" if r.extrapolated else "")
        lines.append((r.name, r.formula, f"{r.formula_count:.1e}", f"{r.flops:.1e}", time_text, memory, error))
    widths = [max(len(str(c)) for c in col) for col in zip(header, *lines)]
    text = [f"m = {shapes.m:,} weights in layer one, n = {shapes.n:,} hidden units, k = {shapes.k} outputs, "
            f"l = {shapes.l:,} weights in layer two; P = {shapes.P:,} parameters"]
    for line in [header] + lines:
        text.append("  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip())
    notes = [f"* extrapolated from {r.sample:,} of {r.total:,} "
             f"{'layer-one weights' if 'Jacobians' in r.name else 'parameters'} ({r.name})"
             for r in rows if r.extrapolated]
    notes += ["the tutorial's counts take J1 as a dense n x m matrix; reverse mode never forms it "
              "(each layer-one weight feeds one hidden unit), hence its far smaller flop count",
              "time: compiled chainrule code (for the Jacobian products: the two matrix products, "
              "the Jacobians formed beforehand by cr.jacobian); memory: peak bytes allocated "
              "(for the Jacobian products: what the full product needs); error: "
              "max |g - g_reverse| / max |g_reverse| over the entries computed"]
    return "\n".join(text + notes)
