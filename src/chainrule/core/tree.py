"""Nested tuples, lists and dicts of arrays ("pytrees"): flatten and rebuild.

Example:
    >>> leaves, spec = tree_flatten({"W": 1.0, "b": (2.0, 3.0)})
    >>> leaves
    [1.0, 2.0, 3.0]
    >>> tree_unflatten(spec, [4.0, 5.0, 6.0])
    {'W': 4.0, 'b': (5.0, 6.0)}
"""

LEAF = None  # the spec of a single leaf


def tree_flatten(tree):
    """Return `(leaves, spec)`; dicts are walked in sorted key order."""
    leaves = []
    spec = _flatten(tree, leaves)
    return leaves, spec


def _flatten(tree, leaves):
    kind = type(tree)
    if kind is tuple or kind is list or (isinstance(tree, tuple) and hasattr(tree, "_fields")):
        return (kind, tuple(_flatten(t, leaves) for t in tree))
    if kind is dict:
        keys = sorted(tree)
        return (dict, tuple(keys), tuple(_flatten(tree[k], leaves) for k in keys))
    leaves.append(tree)
    return LEAF


def tree_unflatten(spec, leaves):
    """Rebuild the structure described by `spec` from an iterable of leaves."""
    return _unflatten(spec, iter(leaves))


def _unflatten(spec, leaves):
    if spec is LEAF:
        return next(leaves)
    if spec[0] is dict:
        return {k: _unflatten(s, leaves) for k, s in zip(spec[1], spec[2])}
    return rebuild(spec[0], [_unflatten(s, leaves) for s in spec[1]])


def tree_map(fun, tree, *rest):
    """Apply `fun` leaf by leaf to `tree` (and the matching leaves of `rest`)."""
    leaves, spec = tree_flatten(tree)
    others = [tree_flatten(r)[0] for r in rest]
    return tree_unflatten(spec, [fun(*xs) for xs in zip(leaves, *others)])


def rebuild(like, items):
    """A sequence of the type of `like` (tuple, list or namedtuple; an
    instance or the type itself) holding `items`.

    Example:
        >>> rebuild((1, 2), [3, 4])
        (3, 4)
    """
    kind = like if isinstance(like, type) else type(like)
    items = list(items)
    return kind._make(items) if hasattr(kind, "_fields") else kind(items)
