"""Cost model: flops and bytes moved per equation, summed over a graph.

Elementwise ops cost one flop per output element, matmul 2 m n k, sums one
flop per input element, shape ops (reshape, transpose, broadcast, indexing)
none, concatenation none, einsum 2 per term of its full sum, factorisations
and solves of n x n matrices n^3 (times a small factor for eigenvalue
decompositions); bytes are those of the array operands read and of the
outputs written.
A primitive missing from `FLOPS` counts one flop per output element.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> graph_cost(trace(lambda x, W: np.tanh(x @ W), np.zeros((8, 4)), np.zeros((4, 3))))
    Cost(flops=216, bytes=928)
"""

import math
from dataclasses import dataclass

import numpy as np

from .ir import Var, reads


@dataclass(frozen=True)
class Cost:
    """Floating-point operations and bytes moved."""

    flops: int = 0
    bytes: int = 0

    def __add__(self, other):
        return Cost(self.flops + other.flops, self.bytes + other.bytes)


def _size(v):
    return math.prod(v.shape)  # Var.size through np.prod is slow for a hot path


def _matmul_flops(e):
    x, _ = e.inputs
    k = x.shape[-1] if isinstance(x, Var) and x.ndim else 1
    return 2 * k * _size(e.outputs[0])


def _input_size(e):
    return _size(e.inputs[0]) if isinstance(e.inputs[0], Var) else 1


def _none(e):
    return 0


def _einsum_flops(e):
    """2 per term of the full sum: the product of every label's extent."""
    spec = e.params.get("subscripts", "")
    ins = spec.split("->")[0].split(",")
    extent = {}
    for labels, v in zip(ins, e.inputs):
        if isinstance(v, Var) and "." not in labels and len(labels) == v.ndim:
            extent.update(zip(labels, v.shape))
    if not extent:
        return sum(v.size for v in e.outputs)
    return 2 * int(np.prod(list(extent.values()), dtype=np.int64))


def _cubic(e):
    """Factorisations and solves of (stacks of) n x n matrices: n^3 each,
    plus 2 n^2 per right-hand side column."""
    a = e.inputs[0]
    if not isinstance(a, Var) or a.ndim < 2:
        return sum(v.size for v in e.outputs)
    n = a.shape[-1]
    stacks = a.size // (n * n) if n else 0
    rhs = 0
    if len(e.inputs) > 1 and isinstance(e.inputs[1], Var):
        rhs = 2 * n * e.inputs[1].size
    return stacks * n ** 3 + rhs


# fmt: off
FLOPS = {
    "matmul":       _matmul_flops,
    "sum":          _input_size,
    "reshape":      _none,
    "transpose":    _none,
    "broadcast_to": _none,
    "getitem":      _none,
    "real":         _none,
    "imag":         _none,
    "scatter_add":  lambda e: _input_size(e),  # one addition per scattered entry
    "concatenate":  _none,
    "astype":       _none,
    "cumsum":       _input_size,
    "amax":         _input_size,
    "einsum":       _einsum_flops,
    "solve":        _cubic,
    "solve_triangular": lambda e: _cubic(e) // 2,
    "inv":          _cubic,
    "det":          _cubic,
    "slogdet":      _cubic,
    "cholesky":     lambda e: _cubic(e) // 3,
    "eigh":         lambda e: 9 * _cubic(e),
    "svd":          lambda e: 12 * _cubic(e),
    "qr":           lambda e: 2 * _cubic(e),
    "pinv":         lambda e: 12 * _cubic(e),
}
# fmt: on


def _nbytes(v):
    return _size(v) * np.dtype(v.dtype).itemsize


def eqn_cost(e):
    """The Cost of one equation.

    Example:
        >>> from chainrule.graph import trace
        >>> eqn_cost(trace(lambda x: np.sin(x), np.zeros(10)).eqns[0])
        Cost(flops=10, bytes=160)
    """
    rule = FLOPS.get(e.prim.name)
    flops = rule(e) if rule is not None else sum(_size(v) for v in e.outputs)
    moved = sum(_nbytes(v) for v in reads(e)) + sum(_nbytes(v) for v in e.outputs)
    return Cost(int(flops), int(moved))


def graph_cost(graph):
    """The total Cost of a graph's equations."""
    total = Cost()
    for e in graph.eqns:
        total = total + eqn_cost(e)
    return total
