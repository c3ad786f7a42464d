"""The box: a traced value that plain NumPy code can use like an array.

NumPy hands every call on a box to it: ufuncs through `__array_ufunc__`
(NEP 13), other functions through `__array_function__` (NEP 18), and
operators, indexing and methods through the slots below. The two dispatch
functions read the registries of `chainrule.core.primitive` and nothing
else; anything not registered raises an error that names it.
"""

import sys

import numpy as np

from .errors import LeakError, MutationError, NoRuleError
from .primitive import FUNCTIONS, UFUNC_METHODS, UFUNCS
from .trace import bind


def _ufunc_name(ufunc, method):
    special = sys.modules.get("scipy.special")  # SciPy's ufuncs are named as SciPy's
    scipy_ufunc = special is not None and getattr(special, ufunc.__name__, None) is ufunc
    name = f"{'scipy.special' if scipy_ufunc else 'numpy'}.{ufunc.__name__}"
    return name if method == "__call__" else f"{name}.{method}"


def dispatch_ufunc(ufunc, method, inputs, kwargs):
    """Route `ufunc.method(*inputs, **kwargs)` on traced values to its rule."""
    out = kwargs.pop("out", None)
    if out is not None or method == "at":
        return inplace.ufunc_in_place(ufunc, method, inputs, kwargs, out)
    if method == "__call__":
        prim = UFUNCS.get(ufunc) or _scipy_ufunc(ufunc)
        if prim is None:
            raise NoRuleError(_no_rule_message(_ufunc_name(ufunc, method)))
        if kwargs:
            raise NoRuleError(
                f"{_ufunc_name(ufunc, method)} on traced values does not accept "
                f"the keyword arguments {sorted(kwargs)}."
            )
        return bind(prim, *inputs)
    handler = UFUNC_METHODS.get((ufunc, method))
    if handler is None:
        raise NoRuleError(_no_rule_message(_ufunc_name(ufunc, method)))
    return handler(*inputs, **kwargs)


def _scipy_ufunc(ufunc):
    """The rules of SciPy's special-function ufuncs register on first use, so
    that chainrule does not import SciPy unless the code being traced does."""
    if type(ufunc).__module__ == "numpy" and "scipy.special" in sys.modules:
        import chainrule.scipy.special  # noqa: F401  (registers the rules)
        return UFUNCS.get(ufunc)
    return None


def dispatch_function(func, args, kwargs):
    """Route a NumPy function called with traced arguments to its handler."""
    if kwargs.get("out") is not None:
        return inplace.function_out(func, args, kwargs)
    handler = FUNCTIONS.get(func)
    if handler is None:
        module = getattr(func, "__module__", "numpy") or "numpy"
        if module.startswith("numpy"):
            module = "numpy" + module[len("numpy"):].replace("._core", "").replace(".core", "")
        name = f"{module}.{func.__name__}"
        raise NoRuleError(_no_rule_message(name.replace("numpy.lib._", "numpy.")))
    return handler(*args, **kwargs)


def _no_rule_message(name):
    return (
        f"chainrule has no derivative rule for {name}, which was called on a "
        "traced value. Express the computation with supported NumPy "
        "functions, or wrap it in a function decorated with "
        "@chainrule.custom_vjp that returns its value and its backprop."
    )


def _shown(box):
    """The plain value under the boxes, for display: a NumPy scalar when 0-d."""
    v = box._value
    while isinstance(v, Box):
        v = v._value
    if isinstance(v, (np.ndarray, np.generic, int, float, complex)):
        return np.asarray(v)[()] if np.ndim(v) == 0 else v
    return f"<traced {box.dtype}{list(box.shape)}>"  # symbolic: no value yet


def _leak(what, advice="use np.* functions on it"):
    def method(self, *args, **kwargs):
        if mutation.storing_into_plain_array():
            raise mutation.plain_target_error()
        if not mutation.in_progress(self._trace):
            raise mutation.escaped_error(what)
        from ..leak_hints import foreign_caller
        raise LeakError(
            f"{what} on a traced value would drop its derivative. Keep the "
            f"value as an array inside the differentiated function ({advice}); "
            "convert only the final result." + foreign_caller()
        )
    method.__name__ = what
    return method


def _mutation(what):
    def method(self, *args, **kwargs):
        raise MutationError(
            f"{what} on a traced array is not supported; build a new array instead."
        )
    method.__name__ = what
    return method


class Box:
    """A value taking part in a differentiation; behaves like an ndarray.

    Subclasses (one per mode) add what their trace records. `_value` is the
    value one level down: a plain array, or a box of an outer trace.
    """

    # _base, _views: the view relations of NumPy's semantics (chainrule/mutation.py)
    __slots__ = ("_value", "_trace", "_base", "_views", "__weakref__")
    __array_priority__ = 100.0
    __hash__ = object.__hash__

    # ---- the two NumPy protocols ----
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if len(inputs) == 1 and method == "__call__" and not kwargs:
            prim = UFUNCS.get(ufunc)  # f(x) with x ours: no trace to search for
            if prim is not None:
                return self._trace.process(prim, inputs, _NO_PARAMS)
        return dispatch_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        return dispatch_function(func, args, kwargs)

    # ---- what an array reports about itself ----
    @property
    def shape(self):
        return np.shape(self._value)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def dtype(self):
        v = self._value
        while isinstance(v, Box):
            v = v._value
        return np.result_type(v)

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of unsized object (a 0-d traced array)")
        return shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self):
        return bool(self._value)

    # ---- reading the value for logs: shows it, the derivative is unaffected ----
    def __format__(self, spec):
        shown = _shown(self)
        return shown if isinstance(shown, str) else format(shown, spec)

    def __str__(self):
        return str(_shown(self))

    def __round__(self, ndigits=None):
        if ndigits is None:  # Python's round(x) is an int, as for NumPy scalars
            shown = _shown(self)
            if isinstance(shown, str):
                raise TypeError("round(x) of a traced value needs its value, which graph "
                                "tracing does not have; use np.round(x)")
            return round(shown)
        return np.round(self, ndigits)

    def __repr__(self):
        return f"{type(self).__name__}({self._value!r}, level={self._trace.level})"

    # ---- conversions that would lose the derivative ----
    __array__ = _leak("np.asarray / np.array / __array__",
                      "build arrays from traced values with np.stack or np.concatenate")
    __float__ = _leak("float()")
    __int__ = _leak("int()")
    __complex__ = _leak("complex()")
    __index__ = _leak("use as an index")
    item = _leak(".item()")
    tolist = _leak(".tolist()")
    tobytes = _leak(".tobytes()")

    # ---- in-place updates: the box takes the new value (chainrule/mutation.py) ----
    def __setitem__(self, index, value):
        inplace.setitem(self, index, value)

    def fill(self, value):
        inplace.setitem(self, Ellipsis, value)

    def sort(self, axis=-1, kind=None, order=None, *, stable=None):
        mutation.rebind(self, np.sort(self, axis=axis, kind=kind, order=order, stable=stable))

    resize = _mutation(".resize() (use np.resize(x, shape), which makes a new array)")
    def put(self, indices, values, mode="raise"): np.put(self, indices, values, mode)
    itemset = _mutation(".itemset() (use `x[index] = v`)")

    # ---- arithmetic: operators go straight to their primitives (see the end
    # of this module), without NumPy's dispatch on the way ----
    def __floordiv__(self, other): return np.floor_divide(self, other)
    def __rfloordiv__(self, other): return np.floor_divide(other, self)
    def __pos__(self): return self
    def __matmul__(self, other): return np.matmul(self, other)
    def __rmatmul__(self, other): return np.matmul(other, self)

    def __getitem__(self, index):
        out = indexing.getitem(self, index)
        if inplace.is_view(index, out):
            mutation.mark_view(self, out, lambda a: a[index])
        return out

    # ---- array methods, as the NumPy functions of the same name ----
    @property
    def T(self): return np.transpose(self)
    @property
    def mT(self): return np.swapaxes(self, -1, -2)
    @property
    def real(self): return np.real(self)
    @property
    def imag(self): return np.imag(self)
    def conj(self): return np.conjugate(self)
    conjugate = conj
    def sum(self, *args, **kwargs): return np.sum(self, *args, **kwargs)
    def mean(self, *args, **kwargs): return np.mean(self, *args, **kwargs)
    def prod(self, *args, **kwargs): return np.prod(self, *args, **kwargs)
    def max(self, *args, **kwargs): return np.max(self, *args, **kwargs)
    def min(self, *args, **kwargs): return np.min(self, *args, **kwargs)
    def var(self, *args, **kwargs): return np.var(self, *args, **kwargs)
    def std(self, *args, **kwargs): return np.std(self, *args, **kwargs)
    def cumsum(self, *args, **kwargs): return np.cumsum(self, *args, **kwargs)
    def cumprod(self, *args, **kwargs): return np.cumprod(self, *args, **kwargs)
    def argmax(self, *args, **kwargs): return np.argmax(self, *args, **kwargs)
    def argmin(self, *args, **kwargs): return np.argmin(self, *args, **kwargs)
    def argsort(self, *args, **kwargs): return np.argsort(self, *args, **kwargs)
    def all(self, *args, **kwargs): return np.all(self, *args, **kwargs)
    def any(self, *args, **kwargs): return np.any(self, *args, **kwargs)
    def clip(self, *args, **kwargs): return np.clip(self, *args, **kwargs)
    def dot(self, other): return np.dot(self, other)
    def trace(self, *args, **kwargs): return np.trace(self, *args, **kwargs)
    def diagonal(self, *args, **kwargs): return np.diagonal(self, *args, **kwargs)
    def ravel(self, order="C"): return np.ravel(self, order)
    def flatten(self, order="C"): return np.ravel(self, order)
    def squeeze(self, axis=None): return np.squeeze(self, axis)
    def swapaxes(self, a, b): return np.swapaxes(self, a, b)
    def repeat(self, repeats, axis=None): return np.repeat(self, repeats, axis)
    def take(self, indices, axis=None): return np.take(self, indices, axis)
    def round(self, decimals=0): return np.round(self, decimals)
    def nonzero(self): return np.nonzero(self)
    def argpartition(self, kth, axis=-1, kind="introselect", order=None):
        return np.argpartition(self, kth, axis=axis, kind=kind)
    def compress(self, condition, axis=None): return np.compress(condition, self, axis)
    def choose(self, choices, mode="raise"): return np.choose(self, choices, mode=mode)
    def searchsorted(self, v, side="left", sorter=None): return np.searchsorted(self, v, side, sorter)
    def partition(self, kth, axis=-1, kind="introselect", order=None):
        mutation.rebind(self, np.partition(self, kth, axis=axis, kind=kind))

    def view(self, dtype=None, type=None):
        if dtype is not None or type is not None:
            raise LeakError("x.view(dtype) of a traced value reinterprets its bytes, which "
                            "has no derivative; use x.astype(dtype)")
        return self[...]

    @property
    def flat(self): return self.reshape(-1)
    base = None  # not a view of a plain array
    device = "cpu"
    def to_device(self, device, stream=None): return self
    @property
    def itemsize(self): return self.dtype.itemsize
    @property
    def nbytes(self): return self.size * self.dtype.itemsize
    @property
    def strides(self):
        steps, step = [], self.dtype.itemsize
        for n in reversed(self.shape):
            steps.append(step)
            step *= n
        return tuple(reversed(steps))

    # ---- the raw memory, which a traced value does not have ----
    ctypes = data = flags = property(_leak("the memory of an array (.data, .ctypes, .flags)"))
    dump = dumps = tofile = _leak(".dump() / .dumps() / .tofile()")
    getfield = setfield = setflags = byteswap = _leak(
        ".getfield() / .setfield() / .setflags() / .byteswap() (raw memory)")
    def copy(self, order="C"): return mutation.clone(self)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return np.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and not isinstance(axes[0], int):
            axes = axes[0]
        return np.transpose(self, axes or None)

    def astype(self, dtype, *args, **kwargs):
        return ew.astype(self, dtype)

    # copy.copy / copy.deepcopy keep the derivative, as x.copy() and np.copy do
    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

class _NoAttributeRule(NoRuleError, AttributeError):
    """An ndarray attribute that traced values do not have."""


def _no_attribute_rule(name):
    def get(self):
        raise _NoAttributeRule(
            f"ndarray.{name} is not supported on traced values; chainrule has no "
            "rule for it. Use the np.* function instead, or convert only the final result.")
    return property(get)


# An ndarray attribute the box lacks is a clear chainrule error (still an
# AttributeError, so hasattr() stays False). Stated as properties rather than
# a __getattr__, which would slow every attribute read of every box: Python
# does not specialise slot reads on a type with __getattr__.
for _name in dir(np.ndarray):
    if not _name.startswith("_") and not hasattr(Box, _name):
        setattr(Box, _name, _no_attribute_rule(_name))


_NO_PARAMS = {}
_SCALARS = frozenset({float, int, np.float64})


def _operator(prim, reflected=False):
    """An operator method calling `prim`; a plain scalar partner cannot
    belong to a deeper trace, so such calls skip the search in `bind`."""
    if reflected:
        def method(self, other):
            if type(other) in _SCALARS:
                return self._trace.process(prim, (other, self), _NO_PARAMS)
            return bind(prim, other, self)
    else:
        def method(self, other):
            if type(other) in _SCALARS:
                return self._trace.process(prim, (self, other), _NO_PARAMS)
            return bind(prim, self, other)
    method.__name__ = f"__{'r' if reflected else ''}{prim.name}__"
    return method


def _unary_operator(prim):
    def method(self):
        return self._trace.process(prim, (self,), _NO_PARAMS)
    return method


from ..rules import elementwise as ew  # noqa: E402  (rules import the core)
from ..rules import indexing  # noqa: E402
from .. import mutation  # noqa: E402

inplace = None  # chainrule.rules.inplace, which sets itself here when it loads

# operator -> (primitive, name of the reflected operator or None)
_OPERATORS = {
    "__add__": (ew.add_p, "__radd__"),
    "__sub__": (ew.subtract_p, "__rsub__"),
    "__mul__": (ew.multiply_p, "__rmul__"),
    "__truediv__": (ew.divide_p, "__rtruediv__"),
    "__pow__": (ew.power_p, "__rpow__"),
    "__mod__": (ew.remainder_p, "__rmod__"),
    # comparisons give plain boolean arrays: they carry no derivative
    "__lt__": (ew.less_p, None),
    "__le__": (ew.less_equal_p, None),
    "__gt__": (ew.greater_p, None),
    "__ge__": (ew.greater_equal_p, None),
    "__eq__": (ew.equal_p, None),
    "__ne__": (ew.not_equal_p, None),
}
for _name, (_prim, _reflected) in _OPERATORS.items():
    setattr(Box, _name, _operator(_prim))
    if _reflected:
        setattr(Box, _reflected, _operator(_prim, reflected=True))
Box.__neg__ = _unary_operator(ew.negative_p)
Box.__abs__ = _unary_operator(ew.absolute_p)
