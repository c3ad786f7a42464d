"""In-place updates of traced arrays: the box object takes the new value.

`x += y`, `x[i] = v`, `np.add(a, b, out=x)` compute the new value
functionally (a primitive call like any other) and then rebind what the box
object holds, so that every name bound to that object sees the change, as
in NumPy. Nothing that recorded the old value follows: tape entries refer to
node indices, residuals to the values one level down, and an input's tape
index is captured when the input is created.

Where NumPy's semantics cannot be kept, a MutationError names the line and
the fix: a write through a view of another live traced array, a write to an
array whose live view overlaps the written entries, and an update of a value
of an outer differentiation while an inner reverse-mode differentiation that
may have recorded it is in progress.

Example:
    >>> import numpy as np, chainrule as cr
    >>> def f(x):
    ...     out = np.zeros_like(x)
    ...     alias = out
    ...     out[0] = x[0] ** 2
    ...     out += x
    ...     return np.sum(alias)
    >>> cr.grad(f)(np.array([3.0, 1.0]))
    array([7., 1.])
"""

import dis
import gc
import os
import sys
import weakref

import numpy as np

from .core.box import Box
from .core.errors import LeakError, MutationError

_STORE_SUBSCR = dis.opmap["STORE_SUBSCR"]
_OWN_SLOTS = frozenset({"_base", "_views", "__weakref__", "__dict__"})
_slots_cache = {}


def _slots(cls):
    """The value-carrying slots of a box class (its mode's state)."""
    names = _slots_cache.get(cls)
    if names is None:
        names = []
        for k in cls.__mro__:
            for s in getattr(k, "__slots__", ()):
                if s not in _OWN_SLOTS and s not in names:
                    names.append(s)
        names = _slots_cache[cls] = tuple(names)
    return names


def clone(box):
    """A new box object holding what `box` holds (NumPy's copy: the two are
    independent from now on, and being functional underneath, exact)."""
    new = object.__new__(type(box))
    for s in _slots(type(box)):
        try:
            setattr(new, s, getattr(box, s))
        except AttributeError:
            pass
    if hasattr(new, "_var"):  # a graph box: its raw value points back to it
        new._value = type(box._value)(new)
    return new


# --------------------------------------------------------------------------
# where the user is: error messages name their line

_HERE = os.path.dirname(os.path.abspath(__file__))
_NUMPY = os.path.dirname(os.path.abspath(np.__file__))


def user_frame():
    """The innermost frame outside chainrule and NumPy (None if none)."""
    frame = sys._getframe(1)
    while frame is not None:
        path = os.path.abspath(frame.f_code.co_filename)
        if not (path.startswith(_HERE) or path.startswith(_NUMPY)):
            return frame
        frame = frame.f_back
    return None


def user_line():
    """`file:line: code` of the user's line being run."""
    frame = user_frame()
    if frame is None:
        return "<unknown line>"
    import linecache
    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {code}"


def storing_into_plain_array():
    """Whether the user's line is executing `array[index] = value` (NumPy
    is then converting a traced value to store it in a plain array)."""
    frame = user_frame()
    if frame is None or frame.f_lasti < 0:
        return False
    return frame.f_code.co_code[frame.f_lasti] == _STORE_SUBSCR


_augmented_cache = {}


def augmented_subscript():
    """Whether the user's line is at `a[index] op= value`, whose in-place
    operator result Python then stores back with `a[index] = result`."""
    frame = user_frame()
    if frame is None:
        return False
    key = (frame.f_code, frame.f_lasti)
    found = _augmented_cache.get(key)
    if found is None:
        found = False
        after = False
        for ins in dis.get_instructions(frame.f_code):
            if ins.offset == frame.f_lasti:
                after = ins.opname == "BINARY_OP" or ins.opname.startswith("INPLACE_")
                continue
            if after:
                if ins.opname in ("SWAP", "COPY", "ROT_TWO", "ROT_THREE", "ROT_FOUR"):
                    continue
                found = ins.opname == "STORE_SUBSCR"
                break
        _augmented_cache[key] = found
    return found


def plain_target_error():
    """The LeakError for a traced value written into a plain ndarray."""
    return LeakError(
        f"{user_line()}\nA traced value is written into a plain NumPy array, which "
        "cannot hold its derivative. Create the array from a traced one instead, e.g. "
        "`out = np.zeros_like(x)` (or np.empty_like, np.ones_like, np.full_like, x.copy()) "
        "where x is traced: such arrays can be filled (`out[i] = ...`, `out += ...`) and "
        "the derivative flows through them."
    )


def surface_leak(error):
    """The LeakError NumPy wrapped in a ValueError ("setting an array element
    with a sequence") when a traced value was stored into a plain array, so
    callers re-raise it as itself; None for other errors."""
    cause = error.__cause__
    if isinstance(error, ValueError) and isinstance(cause, LeakError):
        return cause.with_traceback(error.__traceback__)
    return None


def in_progress(trace):
    """Whether the differentiation of `trace` is still running: some frame
    on the stack (the transformation that started it) refers to it."""
    frame = sys._getframe(1)
    while frame is not None:
        if any(v is trace for v in frame.f_locals.values()):
            return True
        frame = frame.f_back
    return False


def escaped_error(what):
    return LeakError(
        f"{user_line()}\n{what} on a traced value whose differentiation has already "
        "finished: the value escaped from the differentiated function (kept in a list, "
        "a global or an attribute) and is used afterwards. Return such values as "
        "auxiliary data instead: `cr.grad(f, has_aux=True)` with f returning "
        "`(loss, aux)` gives them back as plain arrays (or keep f\"{loss:.4f}\" strings "
        "for logs: formatting reads a traced value).")


# --------------------------------------------------------------------------
# constants of a trace: what np.zeros_like(x) of a traced x gives

def lift(trace, value):
    """A box of `trace` holding `value`, which does not depend on the trace."""
    from .core.batch import BatchBox, BatchTrace
    from .core.forward import DualBox, DualTrace
    from .core.primitive import float_dtype
    from .core.reverse import ReverseTrace
    if isinstance(trace, ReverseTrace):
        return trace.new_input(value)  # a node without parents: a constant
    if isinstance(trace, DualTrace):
        from .arraylibs import zeros  # the tangent on value's array library
        return DualBox(value, zeros(np.shape(value), float_dtype(value), like=value), trace)
    if isinstance(trace, BatchTrace):
        return BatchBox(np.broadcast_to(value, (trace.size,) + np.shape(value)), trace)
    from .graph.trace import SymbolicTrace, SymbolicBox, SymbolicValue
    if isinstance(trace, SymbolicTrace):
        if not isinstance(value, SymbolicValue):
            value = np.asarray(value)
        return SymbolicBox(trace.read(value), trace)
    raise MutationError(f"an in-place update under {type(trace).__name__} is not supported")


# --------------------------------------------------------------------------
# views: which boxes share entries with which

def mark_view(base, view, positions):
    """Record that `view` shows entries of `base`: `positions(a)` applied to
    an array shaped like base gives the entries the view shows."""
    if not isinstance(view, Box) or view is base:
        return view
    info = getattr(base, "_base", None)
    if info is not None and info[0]() is not None:  # a view of a view: of the root
        inner = info[1]
        base = info[0]()
        positions = _compose(positions, inner)
    view._base = (weakref.ref(base), positions)
    views = getattr(base, "_views", None)
    if views is None:
        views = base._views = []
    elif len(views) > 8:
        views[:] = [r for r in views if r() is not None]
    views.append(weakref.ref(view))
    return view


def _compose(outer, inner):
    return lambda a: outer(inner(a))


def check_writable(box, index=None):
    """Raise MutationError where writing `box[index]` (all of box when index
    is None) would differ from NumPy: box is a view of a live traced array,
    or a live view of box shows written entries."""
    info = getattr(box, "_base", None)
    if info is not None:
        if info[0]() is not None and index is None and augmented_subscript():
            # `x[i] += v`: Python stores the result back into x[i] next, so
            # the view need not write through; it is a copy from now on
            box._base = None
            info = None
        elif info[0]() is not None:
            raise MutationError(
                f"{user_line()}\nThis writes through a view of another traced array (a "
                "slice, reshape, transpose...). NumPy would change that array too, which "
                "chainrule does not follow. Write into the array itself (`x[i, j] = v` "
                "rather than `row = x[i]; row[j] = v`), or copy the view first "
                "(`row = x[i].copy()`).")
        box._base = None
    views = getattr(box, "_views", None)
    if not views:
        return
    written = _written(box, index)
    if _overlapping_view(box, views, written) and (gc.collect() or True) \
            and _overlapping_view(box, views, written):  # collected: not garbage in a cycle
        raise MutationError(
            f"{user_line()}\nThis writes into a traced array whose entries are also "
            "shown by a live view of it (a slice, reshape, transpose...). NumPy would "
            "change the view too, which chainrule does not follow. Copy the view "
            "(`v = x[i].copy()`) before writing, or write before taking it.")


def _overlapping_view(box, views, written):
    for r in views:
        v = r()
        if v is not None and getattr(v, "_base", None) is not None and v._base[0]() is box:
            if written is None or np.any(v._base[1](written)):
                return True
    return False


def _written(box, index):
    """A boolean mask of the entries `box[index] = ...` writes; None: all."""
    if index is None:
        return None
    mask = np.zeros(box.shape, bool)
    try:
        mask[index] = True
    except Exception:  # noqa: BLE001  (traced index arrays: assume every entry)
        return None
    return mask


# --------------------------------------------------------------------------
# the update itself

def rebind(box, new, index=None):
    """Let `box` hold `new` (same shape), after the checks of NumPy's semantics."""
    check_writable(box, index)
    trace = box._trace
    if not isinstance(new, Box) or new._trace.level < trace.level:
        new = lift(trace, new)  # no longer depends on this trace: a constant of it
    elif new._trace is not trace:
        raise MutationError(
            f"{user_line()}\nAn array of an outer differentiation is updated in place with "
            "a value of an inner one. Make a new array instead (`y = x + v`, or "
            "`y = x.copy(); y[i] = v`) inside the inner function.")
    _check_inner_tapes(trace)
    if type(new) is not type(box):
        raise MutationError(f"{user_line()}\ncannot update a {type(box).__name__} with a "
                            f"{type(new).__name__} in place")
    for s in _slots(type(box)):
        try:
            setattr(box, s, getattr(new, s))
        except AttributeError:
            pass
    return box


def _check_inner_tapes(trace):
    """An inner reverse-mode tape may hold this trace's boxes as residuals
    (constants of its primitives): updating them would change its backward
    pass, so refuse while such a tape is recording."""
    from .core.reverse import LIVE
    for t in list(LIVE):
        if t.level > trace.level and any(e is not None and e[0] is not None for e in t.tape):
            raise MutationError(
                f"{user_line()}\nAn array of an outer differentiation is updated in place "
                "while an inner differentiation that may have used it is in progress. "
                "Make a new array instead (`y = x + v`, or `y = x.copy(); y[i] = v`).")


def update(box, new, what):
    """`box` takes the value of `new`, computed by an in-place operator:
    NumPy's rules for the result's shape and dtype apply."""
    shape, new_shape = box.shape, np.shape(new)
    if new_shape != shape:
        raise ValueError(f"non-broadcastable output operand with shape {shape} doesn't "
                         f"match the broadcast shape {new_shape} ({what})")
    dtype = box.dtype
    new_dtype = new.dtype if isinstance(new, Box) else np.result_type(new)
    if new_dtype != dtype:
        if not np.can_cast(new_dtype, dtype, "same_kind"):
            raise TypeError(f"Cannot cast {what} output from {new_dtype!r} to {dtype!r} "
                            "with casting rule 'same_kind'")
        new = new.astype(dtype) if isinstance(new, Box) else np.asarray(new).astype(dtype)
    return rebind(box, new)
