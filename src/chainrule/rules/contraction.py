"""Contractions: products summed over shared axes.

Two primitives carry every derivative here, both multilinear (the VJP of
one operand contracts the cotangent with the others):

* `matmul`, with NumPy's promotion of vectors and batch broadcasting;
* `einsum` in a normal form where no operand repeats a label and every
  label of an operand appears in another operand or in the output. Then the
  VJP of operand i is itself an einsum, `out,others->in_i`. The handler
  brings any einsum to that form by taking diagonals (repeated labels) and
  summing labels seen once, both differentiable steps of their own.

dot, vdot, inner, tensordot (via transpose, reshape and matmul), outer and
kron (broadcast products) are compositions.
"""

import string

import numpy as np

from ..core.errors import MutationError, UnsupportedOptionError
from ..core.primitive import implements, multilinear, register_ufunc
from .shape import normalize_axes


def _matmul_vjp(g, res, params, which):
    (x, y), _ = res
    if getattr(x, "ndim", 0) == 2 and getattr(y, "ndim", 0) == 2:  # matrices: the common case, in short
        return [np.matmul(g, y.T) if i == 0 else np.matmul(x.T, g) for i in which]
    x1, y1 = np.ndim(x) == 1, np.ndim(y) == 1
    if x1 and y1:
        return [g * y if i == 0 else g * x for i in which]
    out = []
    for i in which:
        # a vector and a matrix: the vector's cotangent is one product with
        # the matrix (a batch of cotangent rows, as in jacrev, stays one product)
        if i == 0 and x1 and np.ndim(y) == 2:
            out.append(np.matmul(y, g))
        elif i == 1 and y1 and np.ndim(x) == 2:
            out.append(np.matmul(g, x))
        elif i == 0:  # promote vectors to matrices, as matmul itself does, then undo it
            Y = np.reshape(y, (-1, 1)) if y1 else y
            G = np.expand_dims(g, -2) if x1 else np.expand_dims(g, -1) if y1 else g
            gx = np.matmul(G, np.swapaxes(Y, -1, -2))
            out.append(np.squeeze(gx, -2) if x1 else gx)
        else:
            X = np.reshape(x, (1, -1)) if x1 else x
            G = np.expand_dims(g, -2) if x1 else np.expand_dims(g, -1) if y1 else g
            gy = np.matmul(np.swapaxes(X, -1, -2), G)
            out.append(np.squeeze(gy, -1) if y1 else gy)
    return out


matmul_p = register_ufunc(np.matmul, multilinear("matmul", np.matmul, _matmul_vjp))


def _no_out(name, out):
    if out is not None:
        raise MutationError(f"np.{name}(..., out=...) would write in place into a traced result")


@implements(np.dot)
def dot(a, b, out=None):
    """np.dot: a product for scalars, matmul up to 2-d b, tensordot beyond."""
    _no_out("dot", out)
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    if np.ndim(b) <= 2:
        return matmul_p(a, b)
    return tensordot(a, b, axes=([-1], [-2]))


@implements(np.vdot)
def vdot(a, b):
    """np.vdot: the dot product of the flattened arrays.

    NumPy conjugates a complex first argument; real arguments (the case this
    library differentiates) are never conjugated, so complex-step inputs pass.
    """
    if np.iscomplexobj(a):
        a = np.conjugate(a)
    return matmul_p(np.ravel(a), np.ravel(b))


@implements(np.inner)
def inner(a, b):
    """np.inner: contraction of the last axes."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return a * b
    return tensordot(a, b, axes=([-1], [-1]))


@implements(np.outer)
def outer(a, b, out=None):
    """np.outer of the flattened arrays, as a broadcast product."""
    _no_out("outer", out)
    if np.ndim(a) == 0 or np.ndim(b) == 0:  # a reshaped NumPy scalar would be a NumPy array
        return np.reshape(a * b, (np.size(a), np.size(b)))
    return np.reshape(a, (-1, 1)) * np.reshape(b, (1, -1))


@implements(np.kron)
def kron(a, b):
    """np.kron: a broadcast product of interleaved axes, merged pairwise."""
    nd = max(np.ndim(a), np.ndim(b))
    sa = (1,) * (nd - np.ndim(a)) + np.shape(a)
    sb = (1,) * (nd - np.ndim(b)) + np.shape(b)
    spread = (np.reshape(a, sum(((n, 1) for n in sa), ()))
              * np.reshape(b, sum(((1, n) for n in sb), ())))
    return np.reshape(spread, tuple(m * n for m, n in zip(sa, sb)))


@implements(np.tensordot)
def tensordot(a, b, axes=2):
    """np.tensordot: free and summed axes grouped, reshaped to matrices, matmul.

    Example:
        >>> np.tensordot(np.ones((2, 3)), np.ones((3, 4)), axes=1).shape
        (2, 4)
    """
    na, nb = np.ndim(a), np.ndim(b)
    if np.ndim(axes) == 0:
        n = int(axes)
        if n < 0 or n > min(na, nb):
            raise ValueError(f"tensordot axes={n} does not fit shapes {np.shape(a)}, {np.shape(b)}")
        axes_a, axes_b = list(range(na - n, na)), list(range(n))
    else:
        axes_a, axes_b = ([ax] if np.ndim(ax) == 0 else list(ax) for ax in axes)
        axes_a, axes_b = list(normalize_axes(axes_a, na)), list(normalize_axes(axes_b, nb))
    sa, sb = np.shape(a), np.shape(b)
    if len(axes_a) != len(axes_b) or any(sa[i] != sb[j] for i, j in zip(axes_a, axes_b)):
        raise ValueError("shape-mismatch for sum")
    free_a = [d for d in range(na) if d not in axes_a]
    free_b = [d for d in range(nb) if d not in axes_b]
    k = int(np.prod([sa[d] for d in axes_a], dtype=np.int64))
    A = np.reshape(np.transpose(a, free_a + axes_a), (-1, k))
    B = np.reshape(np.transpose(b, axes_b + free_b), (k, -1))
    return np.reshape(matmul_p(A, B), tuple(sa[d] for d in free_a) + tuple(sb[d] for d in free_b))


# ---- einsum ----
def _einsum_vjp(g, res, params, which):
    ops, _ = res
    inputs, output = params["subscripts"].split("->")
    inputs = inputs.split(",")
    out = []
    for i in which:
        others = [j for j in range(len(ops)) if j != i]
        subs = ",".join([output] + [inputs[j] for j in others]) + "->" + inputs[i]
        out.append(np.einsum(subs, g, *[ops[j] for j in others], optimize=params["optimize"]))
    return out


einsum_p = multilinear(
    "einsum",
    lambda *ops, subscripts, optimize: np.einsum(subscripts, *ops, optimize=optimize),
    _einsum_vjp)


@implements(np.einsum)
def einsum(*operands, out=None, optimize=False, **kwargs):
    """np.einsum (explicit, implicit, ellipsis and sublist forms).

    Example:
        >>> float(np.einsum("ii->", np.eye(3)))
        3.0
    """
    _no_out("einsum", out)
    if kwargs:
        raise UnsupportedOptionError(
            f"np.einsum options {sorted(kwargs)} are not supported on traced values")
    subscripts, ops = _einsum_operands(operands)
    inputs, output = _expand_subscripts(subscripts, [np.ndim(x) for x in ops])
    ops, inputs = _normal_form(list(ops), inputs, output)
    if len(ops) == 1:  # distinct labels, all in the output: a transpose
        return np.transpose(ops[0], [inputs[0].index(c) for c in output])
    return einsum_p(*ops, subscripts=",".join(inputs) + "->" + output, optimize=optimize)


def _einsum_operands(operands):
    """(subscripts, operands), converting the sublist form einsum(x, [0, 1], ...)."""
    if isinstance(operands[0], str):
        return operands[0].replace(" ", ""), operands[1:]
    def letters(sub):
        return "".join("..." if s is Ellipsis else string.ascii_letters[s] for s in sub)
    pairs = operands[:len(operands) // 2 * 2]
    inputs = ",".join(letters(s) for s in pairs[1::2])
    if len(operands) % 2:  # an output sublist ends the arguments
        inputs += "->" + letters(operands[-1])
    return inputs, pairs[0::2]


def _expand_subscripts(subscripts, ndims):
    """Input label strings and the output string, with '...' spelled out and
    the implicit output (labels seen once, sorted) made explicit."""
    lhs, arrow, rhs = subscripts.partition("->")
    inputs = lhs.split(",")
    if len(inputs) != len(ndims):
        raise ValueError(f"einsum subscripts {subscripts!r} name {len(inputs)} operands, "
                         f"but {len(ndims)} were given")
    spare = [c for c in string.ascii_letters if c not in subscripts]
    n_ellipsis = max([nd - len(s.replace("...", "")) for s, nd in zip(inputs, ndims)
                      if "..." in s], default=0)
    broadcast = "".join(spare[:n_ellipsis])
    expanded = []
    for s, nd in zip(inputs, ndims):
        if "..." in s:
            s = s.replace("...", broadcast[n_ellipsis - (nd - len(s) + 3):])
        if len(s) != nd or not all(c.isalpha() for c in s):
            raise ValueError(
                f"einstein sum subscripts {s!r} do not match an operand of {nd} dimensions")
        expanded.append(s)
    if arrow:
        output = rhs.replace("...", broadcast)
        if "..." not in rhs and broadcast:
            raise ValueError("output has more dimensions than subscripts given in einstein sum, "
                             "but no '...' ellipsis provided to broadcast the extra dimensions.")
    else:
        labels = "".join(expanded)
        output = broadcast + "".join(sorted(c for c in set(labels) - set(broadcast)
                                            if labels.count(c) == 1))
    if len(set(output)) != len(output) or not set(output) <= set("".join(expanded)):
        raise ValueError(f"invalid einstein sum output subscripts {output!r}")
    return expanded, output


def _normal_form(ops, inputs, output):
    """Take the diagonal of repeated labels and sum labels seen only once."""
    for k, (x, s) in enumerate(zip(ops, inputs)):
        for c in sorted(set(s)):
            while s.count(c) > 1:
                i = s.index(c)
                j = s.index(c, i + 1)
                x = np.diagonal(x, 0, i, j)
                s = s[:i] + s[i + 1:j] + s[j + 1:] + c
        elsewhere = output + "".join(t for m, t in enumerate(inputs) if m != k)
        lone = tuple(p for p, c in enumerate(s) if c not in elsewhere)
        if lone:
            x = np.sum(x, axis=lone)
            s = "".join(c for p, c in enumerate(s) if p not in lone)
        ops[k], inputs[k] = x, s
    return ops, inputs
