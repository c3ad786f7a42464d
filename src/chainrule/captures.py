"""What a function reads besides its arguments, snapshotted, to tell whether
a graph traced from it earlier still describes it.

A traced graph freezes what the function captured: arrays (as constants),
Python numbers (as literals) and the path taken through Python code that
reads outside state. `Snapshot.take(fun, extra)` walks what fun can reach
(closure cells, default arguments, the globals its code names, the
attributes of the objects it holds, the functions those call, and
`extra`, e.g. the arguments that are not differentiated) and records
numbers and strings by value, arrays by identity and contents, and
functions, modules, classes and other objects by identity;
`snapshot.holds(fun, extra)` tells whether all of that is unchanged.

The walk is conservative: whatever it cannot account for (an object of a
library type other than NumPy arrays and scalars, a random number
generator, code that names `random`, `getattr`, `globals`, `eval`...,
more than MAX_ITEMS items or MAX_BYTES of array data) makes `take` return
None, and the caller must trace again. Library code (NumPy, SciPy,
chainrule, the standard library) is trusted not to hold state that changes
results; the functions it wraps (closure cells of `cr.grad(f)`) are walked.

Example:
    >>> import numpy as np
    >>> state = {"scale": 2.0}
    >>> f = lambda x: state["scale"] * np.sin(x)
    >>> snap = Snapshot.take(f)
    >>> snap.holds(f)
    True
    >>> state["scale"] = 3.0
    >>> snap.holds(f)
    False
"""

import builtins
import dis
import functools
import sys
import types

import numpy as np

MAX_ITEMS = 2000
MAX_BYTES = 16 * 2 ** 20

# modules whose own state is trusted not to change results
_TRUSTED = ("numpy", "scipy", "chainrule", "math", "cmath", "builtins", "functools", "itertools",
            "operator", "collections", "typing", "abc", "dataclasses", "enum", "numbers")
# names whose presence in code means it may read state the walk does not see
_UNSAFE_NAMES = frozenset({
    "random", "default_rng", "RandomState", "rvs", "sample", "shuffle", "permutation", "choice",
    "getattr", "globals", "locals", "vars", "eval", "exec", "__import__", "import_module", "open",
    "input", "time", "time_ns", "perf_counter", "process_time", "monotonic", "now", "today",
    "urandom", "environ", "getenv"})
_VALUES = (type(None), bool, int, float, complex, str, bytes, np.generic, np.dtype,
           type(Ellipsis), range, slice)
_SKIPPED = (types.GetSetDescriptorType, types.MemberDescriptorType, types.WrapperDescriptorType,
            types.MethodDescriptorType)


_CONTAINERS = (tuple, list, dict, set, frozenset)


class _Unknown(Exception):
    """Something the walk cannot account for."""


def _trusted(module_name):
    return isinstance(module_name, str) and module_name.split(".", 1)[0] in _TRUSTED


def _library(obj):
    """obj is defined in a trusted module, as that module holds it (not just
    named after one: code run in a copy of a module's namespace, as
    doctests are, is the user's)."""
    module = sys.modules.get(getattr(obj, "__module__", None))
    if module is None or not _trusted(module.__name__):
        return False
    if isinstance(obj, types.FunctionType):
        return obj.__globals__ is vars(module)
    found = module
    for part in getattr(obj, "__qualname__", "<locals>").split("."):
        found = vars(found).get(part) if hasattr(found, "__dict__") else None
        if found is None:
            return False
    return found is obj


@functools.lru_cache(maxsize=4096)
def _names(code):
    """(globals, attributes): the names code (and the code nested in it)
    reads as globals, and as attributes."""
    glob, attrs = set(), set()
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL"):
            glob.add(ins.argval)
        elif ins.opname in ("LOAD_ATTR", "LOAD_METHOD", "STORE_ATTR", "DELETE_ATTR", "IMPORT_NAME",
                            "IMPORT_FROM", "LOAD_SUPER_ATTR"):
            attrs.add(ins.argval)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            g, a = _names(c)
            glob |= g
            attrs |= a
    return frozenset(glob), frozenset(attrs)


class _Walk:
    """Yields (kind, object) items for everything reachable: "value" items
    compare by equality, "array" by identity and contents, "id" by identity."""

    def __init__(self):
        self.seen = set()
        self.count = 0

    def items(self, root):
        stack = [(root, None)]
        while stack:
            obj, names = stack.pop()
            self.count += 1
            if self.count > MAX_ITEMS:
                raise _Unknown("too much to walk")
            if isinstance(obj, _VALUES):
                yield "value", obj
                continue
            if type(obj) is np.ndarray:
                if obj.dtype.hasobject:
                    raise _Unknown("an object array")
                yield "array", obj
                continue
            if id(obj) in self.seen:
                yield "seen", None
                continue
            self.seen.add(id(obj))
            if type(obj) in _CONTAINERS:  # compared by contents, not identity
                yield "value", type(obj)
            else:
                yield "id", obj
            stack.extend(reversed(list(self._children(obj, names))))

    def _children(self, obj, names):
        kind = type(obj)
        if kind in (tuple, list, frozenset, set):
            yield len(obj), None
            yield from ((v, None) for v in (sorted(obj, key=repr) if kind in (set, frozenset) else obj))
        elif kind is dict:
            yield len(obj), None
            for k, v in obj.items():
                yield k, None
                yield v, None
        elif kind is types.FunctionType:
            yield from self._function(obj)
        elif kind is types.MethodType:
            yield obj.__self__, None
            yield obj.__func__, None
        elif kind is types.ModuleType:
            if not _trusted(obj.__name__):
                if names is None:
                    raise _Unknown(f"module {obj.__name__} reached without the names read from it")
                for n in sorted(names):
                    if n in vars(obj):
                        yield n, None
                        yield vars(obj)[n], names
        elif kind is types.CellType:
            try:
                yield obj.cell_contents, names
            except ValueError:  # an empty cell
                yield None, None
        elif kind is types.BuiltinFunctionType:  # a C function, or a C object's bound method
            owner = obj.__self__
            if not (owner is None or type(owner) is types.ModuleType and _trusted(owner.__name__)):
                yield owner, None
        elif kind in (staticmethod, classmethod):
            yield obj.__func__, None
        elif kind is property:
            yield obj.fget, None
        elif kind is types.CodeType or isinstance(obj, _SKIPPED) or isinstance(obj, np.ufunc):
            return
        elif kind.__name__ == "partial" and _trusted(kind.__module__):
            yield obj.func, None
            yield obj.args, None
            yield obj.keywords, None
        elif isinstance(obj, type):
            if _library(obj):
                return
            for k, v in vars(obj).items():
                dunder = k.startswith("__") and k.endswith("__")
                if not isinstance(v, _SKIPPED) and (not dunder or type(v) is types.FunctionType):
                    yield k, None
                    yield v, None
            yield obj.__bases__, None
        elif callable(obj) and _library(obj):
            return  # a library function of its own type (np.sum's dispatcher)
        elif _trusted(getattr(kind, "__module__", None)) or not hasattr(obj, "__dict__"):
            raise _Unknown(f"a {kind.__module__}.{kind.__name__}")
        else:  # an instance of a user class: its class and its attributes
            yield kind, None
            yield vars(obj), None

    def _function(self, fun):
        yield fun.__code__, None
        yield fun.__defaults__, None
        yield fun.__kwdefaults__, None
        glob_names, attrs = _names(fun.__code__)
        for cell in fun.__closure__ or ():
            yield cell, attrs
        if _library(fun):
            return  # library code: only what it wraps
        unsafe = (glob_names | attrs) & _UNSAFE_NAMES
        if unsafe:
            raise _Unknown(f"code naming {sorted(unsafe)}")
        glob = fun.__globals__
        for n in sorted(glob_names):
            if n in glob:
                yield n, None
                yield glob[n], attrs
            elif n in vars(builtins):
                yield n, None
            else:
                raise _Unknown(f"global {n} not defined")


class Snapshot:
    """What fun (and extra) could reach when it was taken; see the module."""

    def __init__(self, items):
        self._items = items

    @classmethod
    def take(cls, fun, extra=()):
        """The snapshot of fun and extra, or None when the walk cannot
        account for something they reach."""
        items, nbytes = [], 0
        try:
            for kind, obj in _Walk().items((fun, extra)):
                if obj is fun:  # not held: a cache weakly keyed by fun may keep this
                    items.append(("root", None, None))
                elif kind == "array":
                    nbytes += obj.nbytes
                    if nbytes > MAX_BYTES:
                        return None
                    items.append((kind, obj, obj.copy()))
                else:
                    items.append((kind, obj, None))
        except _Unknown:
            return None
        return cls(items)

    def holds(self, fun, extra=()):
        """Whether fun and extra reach exactly what they reached when taken."""
        mine = iter(self._items)
        try:
            for kind, obj in _Walk().items((fun, extra)):
                k, was, copy = next(mine, (None, None, None))
                if obj is fun and k == "root":
                    continue
                if k != kind:
                    return False
                if kind == "value":
                    if type(obj) is not type(was) or not _equal(obj, was):
                        return False
                elif obj is not was or (kind == "array" and not _same_array(obj, copy)):
                    return False
        except _Unknown:
            return False
        return next(mine, None) is None


def _equal(a, b):
    try:
        return bool(a == b) or (a != a and b != b)  # NaN is itself
    except Exception:  # noqa: BLE001  (an uncomparable value: assume changed)
        return False


def _same_array(a, copy):
    return (a.shape == copy.shape and a.dtype == copy.dtype
            and np.array_equal(a, copy, equal_nan=a.dtype.kind in "fc"))
