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
