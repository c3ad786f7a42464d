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
    if kwargs.get("out") is not None or method == "at":
        raise MutationError(
            f"{_ufunc_name(ufunc, method)} would write in place (out= or .at) "
            "while a traced value takes part; write `y = f(x)` instead of "
            "updating an array in place."
        )
    kwargs.pop("out", None)
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


def _leak(what, advice="use np.* functions on it"):
    def method(self, *args, **kwargs):
        raise LeakError(
            f"{what} on a traced value would drop its derivative. Keep the "
            f"value as an array inside the differentiated function ({advice}); "
            "convert only the final result."
        )
    method.__name__ = what
    return method


def _mutation(what):
    def method(self, *args, **kwargs):
        raise MutationError(
            f"{what} would mutate a traced array in place. Build a new array "
            "instead, e.g. `x = x + 1` rather than `x += 1`, or "
            "`np.where(mask, new, x)` rather than `x[mask] = new`."
        )
    method.__name__ = what
    return method


class Box:
    """A value taking part in a differentiation; behaves like an ndarray.

    Subclasses (one per mode) add what their trace records. `_value` is the
    value one level down: a plain array, or a box of an outer trace.
    """

    __slots__ = ("_value", "_trace")
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

    # ---- in-place mutation ----
    __setitem__ = _mutation("item assignment x[...] = v")
    __iadd__ = _mutation("x += ...")
    __isub__ = _mutation("x -= ...")
    __imul__ = _mutation("x *= ...")
    __itruediv__ = _mutation("x /= ...")
    __ipow__ = _mutation("x **= ...")
    __imatmul__ = _mutation("x @= ...")
    __ifloordiv__ = _mutation("x //= ...")
    __imod__ = _mutation("x %= ...")
    fill = _mutation(".fill()")
    sort = _mutation(".sort() (in place; use np.sort(x))")
    resize = _mutation(".resize()")
    put = _mutation(".put()")
    itemset = _mutation(".itemset()")

    # ---- arithmetic: operators go straight to their primitives (see the end
    # of this module), without NumPy's dispatch on the way ----
    def __floordiv__(self, other): return np.floor_divide(self, other)
    def __rfloordiv__(self, other): return np.floor_divide(other, self)
    def __pos__(self): return self
    def __matmul__(self, other): return np.matmul(self, other)
    def __rmatmul__(self, other): return np.matmul(other, self)

    def __getitem__(self, index):
        return indexing.getitem(self, index)

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
    def copy(self, order="C"): return self

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
