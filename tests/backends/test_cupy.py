"""Derivatives of NumPy code on CuPy arrays stay on the GPU. Skips cleanly
without CuPy or without a GPU (the op table runs on CuPy in
test_op_table_on_arraylibs.py)."""

import numpy as np
import pytest

import chainrule as cr

from .arraylibs import LIBRARIES

CUPY = next(lib for lib in LIBRARIES if lib.name == "cupy")
pytestmark = pytest.mark.skipif(not CUPY.available(), reason="needs CuPy and a CUDA GPU")


def test_mlp_gradient_stays_on_the_gpu():
    import cupy

    rng = np.random.default_rng(0)
    W = cupy.asarray(rng.standard_normal((5, 4)))
    x = cupy.asarray(rng.standard_normal((8, 5)))

    def loss(W):
        return np.sum(np.tanh(x @ W) ** 2)

    g = cr.grad(loss)(W)
    assert isinstance(g, cupy.ndarray)
    expected = cr.grad(lambda W: np.sum(np.tanh(cupy.asnumpy(x) @ W) ** 2))(cupy.asnumpy(W))
    np.testing.assert_allclose(cupy.asnumpy(g), expected, rtol=1e-12)
    _, t = cr.jvp(loss, (W,), (cupy.ones_like(W),))
    assert isinstance(t, (cupy.ndarray, float, np.floating))
