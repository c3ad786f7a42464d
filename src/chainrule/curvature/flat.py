"""A flat view of nested parameters: one vector for many arrays.

Curvature tools work on vectors (an operator of shape (n, n) acts on
n-vectors); the parameters of a model are a tuple, list or dict of arrays.
`FlatView` lays the leaves end to end and cuts a vector back into them.
The cutting is slicing and reshaping, so it also works on traced values
(a tangent vector that is being batched or recorded).

Example:
    >>> import numpy as np
    >>> view = FlatView({"W": np.ones((2, 2)), "b": np.zeros(3)})
    >>> view.size
    7
    >>> view.unravel(np.arange(7.0))["b"]
    array([4., 5., 6.])
    >>> view.ravel(view.unravel(np.arange(7.0)))
    array([0., 1., 2., 3., 4., 5., 6.])
"""

import numpy as np

from ..core.tree import tree_flatten, tree_unflatten


class FlatView:
    """The leaves of `tree` (shapes, dtypes, offsets) as one vector."""

    def __init__(self, tree):
        leaves, self.spec = tree_flatten(tree)
        if not leaves:
            raise ValueError("there is nothing to differentiate: the parameters hold no arrays")
        self.shapes = [np.shape(x) for x in leaves]
        self.sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int).tolist()
        self.size = self.offsets[-1]
        dtypes = [np.result_type(x) for x in leaves]
        for k, d in enumerate(dtypes):
            if d.kind == "c":
                raise TypeError(
                    f"leaf {k} is complex ({d}); the Hessian operator works on real parameters "
                    "(pass the real and imaginary parts as separate real arrays)")
            if d.kind not in "f":
                raise TypeError(f"leaf {k} has dtype {d}; only floating-point parameters have "
                                "a Hessian (pass them as floats, e.g. x.astype(float))")
        self.dtype = np.result_type(*dtypes)
        self.single = self.spec is None

    def ravel(self, tree):
        """The leaves of `tree` (structured like the view) as one vector."""
        leaves, spec = tree_flatten(tree)
        if spec != self.spec:
            raise ValueError("the structure differs from the parameters' structure")
        if len(leaves) == 1:
            return np.reshape(leaves[0], (self.size,))
        return np.concatenate([np.reshape(x, (n,)) for x, n in zip(leaves, self.sizes)])

    def unravel(self, vector):
        """Cut `vector` (length size) into the parameters' structure."""
        if self.single:
            return np.reshape(vector, self.shapes[0])
        leaves = [np.reshape(vector[a:b], s)
                  for a, b, s in zip(self.offsets[:-1], self.offsets[1:], self.shapes)]
        return tree_unflatten(self.spec, leaves)
