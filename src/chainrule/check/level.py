"""One function under check in one trial: its random directions v and u,
and u.(J v) by each mode (forward, reverse, complex step, differences)."""

import numpy as np

from ..api import jvp, vjp
from ..core.trace import raw
from ..core.tree import tree_flatten, tree_unflatten
from ..custom import OWN_CODE, own_code
from .estimates import _Est, _is_float, _pair, _random_like
from .oracles import _central_difference, _complex_step
from .tolerance import _rounding_scale


class _Level:
    """One function under check in one trial, with its random directions."""

    def __init__(self, f, leaves, names, chain, ctx, v=None, u=None):
        """Random v and u are drawn unless given (u as a list of f's output leaves)."""
        self.f, self.leaves, self.names, self.chain, self.ctx = f, list(leaves), names, chain, ctx
        self.v = [_random_like(x, ctx.rng) for x in leaves] if v is None else v
        if u is None:
            out_leaves, out_spec = tree_flatten(f(*leaves))
            if not any(_is_float(o) for o in out_leaves):
                raise TypeError(f"{ctx.fun_name} returned no floating-point value; nothing to differentiate")
            u = [_random_like(o, ctx.rng) if _is_float(o) else np.zeros(np.shape(o)) for o in out_leaves]
            self.u_tree = tree_unflatten(out_spec, u)
        else:
            self.u_tree = tuple(u)
        self.u = u
        self.scale = {}  # rounding scales, by the id of the direction list

    def label(self, mode):
        return "-over-".join([mode] + self.chain[::-1])

    def estimate(self, mode, v=None):
        """u.(J v) by one mode (v: the level's direction unless given)."""
        est = self._estimate(mode, self.v if v is None else v)
        # C as R^2 (docs/complex.md): the pairing is Re(sum(u * J v)), which
        # forward mode, reverse mode and every oracle agree on
        est.value = est.value.real
        return est

    def _estimate(self, mode, v):
        f, leaves, u = self.f, self.leaves, self.u
        if mode == "fwd":
            fallbacks = OWN_CODE[2]
            with own_code():  # hand-coded blocks run their own code: checks their backprop
                out = jvp(f, tuple(leaves), tuple(v))[1]
            if OWN_CODE[2] != fallbacks:  # a block's own code has no rules: fwd used
                self.ctx.optional.add("fd")  # its rule, so differences give an opinion
            return _Est(*_pair(u, tree_flatten(out)[0]))
        if mode == "rev":
            return _Est(*_pair(vjp(f, *leaves)[1](self.u_tree), v))
        if mode == "cs":
            return _complex_step(f, leaves, v, u)
        return _central_difference(f, leaves, v, u)

    def rounding_scale(self, v):
        if id(v) not in self.scale:
            self.scale[id(v)] = _rounding_scale(self.f, self.leaves, v, self.u_tree)
        return self.scale[id(v)]
