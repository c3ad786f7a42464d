"""The array libraries chainrule is tested on besides NumPy, as small adapters.

Each adapter converts NumPy test inputs to the library's arrays and back,
and tells whether a value is one of its arrays (so a test can require that a
derivative stays on the library: lazy for Dask, on the GPU for CuPy).
"""

import importlib

import numpy as np


class ArrayLib:
    """One array library: `name`, and how to move arrays to and from it."""

    def __init__(self, name, module):
        self.name = name
        self.module = module

    def available(self):
        """Whether the library imports (and, for CuPy, sees a GPU)."""
        try:
            self.load()
        except Exception:  # ImportError, or CUDA errors on a machine without a GPU
            return False
        return True

    def load(self):
        mod = importlib.import_module(self.module)
        if self.name == "cupy":
            mod.cuda.runtime.getDeviceCount()
        return mod

    def asarray(self, x):
        """x (a NumPy array or scalar) as this library's array; 0-d stays a NumPy scalar."""
        x = np.asarray(x)
        if x.ndim == 0:
            return x[()]
        mod = self.load()
        if self.name == "dask":
            chunks = tuple(max(1, n // 2) for n in x.shape)
            return mod.from_array(x, chunks=chunks)
        return mod.asarray(x)

    def owns(self, x):
        """Whether x is an array of this library."""
        mod = self.load()
        kind = mod.Array if self.name == "dask" else mod.ndarray
        return isinstance(x, kind)

    def to_numpy(self, x):
        """x computed (Dask) or copied to the host (CuPy) as a NumPy array."""
        if self.name == "dask" and self.owns(x):
            return np.asarray(x.compute())
        if self.name == "cupy" and self.owns(x):
            return self.load().asnumpy(x)
        return np.asarray(x)


LIBRARIES = [ArrayLib("dask", "dask.array"), ArrayLib("cupy", "cupy")]


class StrictArray(np.ndarray):
    """A stand-in for a GPU array library, to test library independence here.

    Like CuPy, it refuses to be combined with plain NumPy arrays (0-d ones
    included; Python and NumPy scalars are fine) and will not be converted
    to one implicitly: a rule that creates a NumPy array and mixes it with
    the user's arrays fails on it, as it would on CuPy, without a GPU.
    """

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if any(_foreign(x) for x in list(inputs) + list(kwargs.get("out", ()) or ())):
            return NotImplemented  # as CuPy does: let chainrule's boxes take the call
        # ufunc.at's index (inputs[1]) may hold NumPy arrays: CuPy converts
        # index arrays, as it does in x[index]
        checked = inputs[:1] + inputs[2:] if method == "at" else inputs
        _refuse_plain(checked, kwargs.get("out", ()) or (), f"numpy.{ufunc.__name__}.{method}")
        args = [x.view(np.ndarray) if isinstance(x, StrictArray) else x for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, StrictArray) else o
                                  for o in kwargs["out"])
        out = getattr(ufunc, method)(*args, **kwargs)
        return _wrap(out)

    def __array_function__(self, func, types, args, kwargs):
        if any(not issubclass(t, np.ndarray) for t in types):
            return NotImplemented
        if func not in (np.asarray, np.array):  # explicit conversions are fine, as on CuPy
            _refuse_plain(args, kwargs.values(), f"{func.__module__}.{func.__name__}")
        out = func(*_unwrap(args), **_unwrap(kwargs))
        return _wrap(out)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("StrictArray: implicit conversion to a NumPy array is not allowed")

    def __getitem__(self, index):  # x[0] of a vector is a 0-d array on CuPy, not a NumPy scalar
        return _wrap(super().__getitem__(index))


def _foreign(x):
    """Whether x overrides ufuncs and is neither a NumPy nor a StrictArray array."""
    override = getattr(type(x), "__array_ufunc__", None)
    return override is not None and override not in (np.ndarray.__array_ufunc__,
                                                      StrictArray.__array_ufunc__)


def _flat(values):
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _refuse_plain(args, more, where):
    for v in _flat(list(args) + list(more)):
        if type(v) is np.ndarray:
            raise TypeError(f"StrictArray: {where} got a plain NumPy array of shape {v.shape}")


def _unwrap(x):
    if isinstance(x, StrictArray):
        return x.view(np.ndarray)
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, dict):
        return {k: _unwrap(v) for k, v in x.items()}
    return x


def _wrap(x):
    if type(x) is np.ndarray:
        return x.view(StrictArray)
    if isinstance(x, np.generic):  # CuPy answers a full reduction with a 0-d array
        return np.asarray(x).view(StrictArray)
    if isinstance(x, tuple):
        return type(x)(*(_wrap(v) for v in x)) if hasattr(x, "_fields") else tuple(_wrap(v) for v in x)
    if isinstance(x, list):
        return [_wrap(v) for v in x]
    return x


class _StrictLib(ArrayLib):
    """The adapter for StrictArray (always available)."""

    # A GPU user keeps integer data (Bessel orders, counts, indices) on the
    # GPU too, so integer arrays move as well; otherwise the test's own
    # function would mix a NumPy order with a StrictArray argument.
    moves_integers = True

    def load(self):
        return np

    def asarray(self, x):
        x = np.asarray(x)
        return x[()] if x.ndim == 0 else x.copy().view(StrictArray)

    def owns(self, x):
        return isinstance(x, StrictArray)

    def to_numpy(self, x):
        return x.view(np.ndarray) if isinstance(x, StrictArray) else np.asarray(x)


STRICT = _StrictLib("strict", "numpy")
