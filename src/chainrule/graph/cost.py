"""Cost model: flops and bytes moved per equation, summed over a graph.

Elementwise ops cost one flop per output element, matmul 2 m n k, sums one
flop per input element, shape ops (reshape, transpose, broadcast, indexing)
none; bytes are those of the array operands read and of the outputs written.
A primitive missing from `FLOPS` counts one flop per output element.

Example:
    >>> import numpy as np
    >>> from chainrule.graph import trace
    >>> graph_cost(trace(lambda x, W: np.tanh(x @ W), np.zeros((8, 4)), np.zeros((4, 3))))
    Cost(flops=216, bytes=928)
"""

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


def _matmul_flops(e):
    x, _ = e.inputs
    k = x.shape[-1] if isinstance(x, Var) and x.ndim else 1
    return 2 * k * e.outputs[0].size


def _input_size(e):
    return e.inputs[0].size if isinstance(e.inputs[0], Var) else 1


def _none(e):
    return 0


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
}
# fmt: on


def _nbytes(v):
    return v.size * np.dtype(v.dtype).itemsize


def eqn_cost(e):
    """The Cost of one equation.

    Example:
        >>> from chainrule.graph import trace
        >>> eqn_cost(trace(lambda x: np.sin(x), np.zeros(10)).eqns[0])
        Cost(flops=10, bytes=160)
    """
    rule = FLOPS.get(e.prim.name)
    flops = rule(e) if rule is not None else sum(v.size for v in e.outputs)
    moved = sum(_nbytes(v) for v in reads(e)) + sum(_nbytes(v) for v in e.outputs)
    return Cost(int(flops), int(moved))


def graph_cost(graph):
    """The total Cost of a graph's equations."""
    total = Cost()
    for e in graph.eqns:
        total = total + eqn_cost(e)
    return total
