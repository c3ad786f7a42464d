"""Which foreign library function converted a traced value, and what to call instead.

When SciPy code calls `np.asarray` on a traced value, the LeakError names
the SciPy function the user called (the outermost SciPy frame on the stack,
by its public name) and, when `chainrule.scipy.<module>` defines a function
of the same name, that one.

Example:
    >>> public_name("scipy.special._logsumexp", "logsumexp")
    'scipy.special.logsumexp'
    >>> replacement("scipy.special.logsumexp")
    'chainrule.scipy.special.logsumexp'
"""

import importlib
import sys


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


def foreign_caller():
    """A sentence naming the SciPy function on the stack (and what to use), or ''."""
    frame = sys._getframe(1)
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
