"""Which foreign library function converted a traced value, and what to call instead.

When SciPy code calls `np.asarray` on a traced value, the LeakError names
the SciPy function the user called (the outermost SciPy frame on the stack,
by its public name) and, when `chainrule.scipy.<module>` defines a function
of the same name, that one. A few NumPy functions written in Python convert
an argument before NumPy dispatches on it (`np.full(shape, x)`); the error
names those too, with the traced-value spelling of the same thing.

Example:
    >>> public_name("scipy.special._logsumexp", "logsumexp")
    'scipy.special.logsumexp'
    >>> replacement("scipy.special.logsumexp")
    'chainrule.scipy.special.logsumexp'
"""

import importlib
import sys

# NumPy functions that convert an argument without dispatching to chainrule,
# and how to write the same thing on a traced value
NUMPY_ALTERNATIVES = {
    "full": "np.zeros(shape) + x (or np.broadcast_to(x, shape) for a read-only view)",
}


def public_name(module, function):
    """`module.function` with the private submodules (`_name`) dropped."""
    parts = []
    for part in module.split("."):
        if part.startswith("_"):
            break
        parts.append(part)
    return ".".join(parts + [function])


def replacement(name):
    """The chainrule function standing in for the SciPy function `name`, or None."""
    module, _, function = name.rpartition(".")
    if not module.startswith("scipy.") or module.count(".") != 1:
        return None
    try:
        ours = importlib.import_module("chainrule." + module)
    except ImportError:
        return None
    # defined in our module itself, not SciPy's own reached through __getattr__
    return f"chainrule.{name}" if callable(vars(ours).get(function)) else None


def _wrapped(local_values):
    for value in local_values.values():
        module = getattr(value, "__module__", None) or ""
        name = getattr(value, "__name__", "")
        if callable(value) and module.startswith("scipy.") and not name.startswith("_"):
            return public_name(module, name)
    return None


def _numpy_caller(frame):
    """The sentence for a NumPy function of NUMPY_ALTERNATIVES on the stack, or ''."""
    while frame is not None:
        name = frame.f_code.co_name
        if frame.f_globals.get("__name__", "").startswith("numpy.") and name in NUMPY_ALTERNATIVES:
            return (f" The conversion happened inside np.{name}, which converts its fill value "
                    f"before NumPy dispatches to chainrule. Write {NUMPY_ALTERNATIVES[name]} instead.")
        frame = frame.f_back
    return ""


def foreign_caller():
    """A sentence naming the SciPy or NumPy function on the stack (and what to use), or ''.

    Example:
        >>> foreign_caller()  # called from no such function
        ''
    """
    frame = sys._getframe(1)
    numpy_sentence = _numpy_caller(frame)
    if numpy_sentence:
        return numpy_sentence
    outermost = None
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        name = frame.f_code.co_name
        if module.startswith("scipy.") and "wrap" in name:
            # a decorator's wrapper: the function it wraps is among its locals
            found = _wrapped(frame.f_locals)
            outermost = found or outermost
        elif module.startswith("scipy.") and not name.startswith(("_", "<")):
            outermost = public_name(module, name)
        frame = frame.f_back
    if outermost is None:
        return ""
    alternative = replacement(outermost)
    advice = (f" Call {alternative} instead, which works on traced values."
              if alternative else " chainrule has no version of it.")
    return f" The conversion happened inside {outermost} (SciPy code converts its input).{advice}"
