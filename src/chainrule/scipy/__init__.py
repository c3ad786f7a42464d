"""SciPy functions on traced values: change one import and differentiate.

    from chainrule.scipy import linalg    # instead of: from scipy import linalg
    from chainrule.scipy import special   # also makes scipy.special's ufuncs traceable

SciPy is optional: it is imported only when this package is.
"""

try:
    import scipy  # noqa: F401
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "chainrule.scipy needs SciPy, which is not installed; install it with "
        "`pip install scipy` (or `pip install chainrule[scipy]`)."
    ) from error
