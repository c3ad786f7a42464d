"""cr.compile on Dask arrays: the generated NumPy source runs on them unchanged,
returns lazy Dask arrays equal to NumPy's results, and is specialised per
chunking."""

import warnings

import numpy as np
import pytest

import chainrule as cr

from .test_dask import _CountComputations, _data, least_squares, logistic

da = pytest.importorskip("dask.array")


@pytest.mark.parametrize("loss", [least_squares, logistic])
def test_compiled_gradient_is_lazy_and_equals_numpys(loss):
    X, y, Xd, yd = _data()
    w = np.linspace(-0.5, 0.5, X.shape[1])
    f = cr.compile(cr.value_and_grad(loss))
    with _CountComputations() as counter:
        value, g = f(w, Xd, yd)
    assert counter.count == 0, "compiling or running the compiled code computed the Dask arrays"
    assert isinstance(value, da.Array) and isinstance(g, da.Array)
    assert "out=" not in f.source  # no buffer reuse: Dask arrays are not buffers
    assert f.backend_used == "numpy"
    np.testing.assert_allclose(value.compute(), loss(w, X, y), rtol=1e-13)
    np.testing.assert_allclose(g.compute(), cr.grad(loss)(w, X, y), rtol=1e-12)
    # the NumPy signature of the same function is its own specialisation, with out= reuse
    _, g_numpy = f(w, X, y)
    np.testing.assert_allclose(g_numpy, cr.grad(loss)(w, X, y), rtol=1e-12)
    assert len(f.cache) == 2


def test_a_new_chunking_is_a_new_specialisation():
    X, y, Xd, yd = _data(n=600, chunk=100)
    w = np.linspace(-0.5, 0.5, X.shape[1])
    f = cr.compile(cr.grad(logistic))
    first = f(w, Xd, yd)
    f(w, Xd + 0.0, yd)  # same chunking: the same program
    assert len(f.cache) == 1
    rechunked = f(w, Xd.rechunk((150, 6)), yd.rechunk(150))
    assert len(f.cache) == 2
    assert rechunked.chunks == first.chunks == ((6,),)
    np.testing.assert_allclose(rechunked.compute(), first.compute(), rtol=1e-13)
    np.testing.assert_allclose(first.compute(), cr.grad(logistic)(w, X, y), rtol=1e-12)


def test_numba_backend_falls_back_to_numpy_source_on_dask():
    pytest.importorskip("numba")
    X, y, Xd, yd = _data(n=400, chunk=100)
    w = np.linspace(-0.5, 0.5, X.shape[1])
    f = cr.compile(cr.grad(least_squares), backend="numba")
    g = f(w, Xd, yd)
    assert isinstance(g, da.Array)
    assert f.backend_used.startswith("numpy (numba compiles NumPy arrays only")
    np.testing.assert_allclose(g.compute(), cr.grad(least_squares)(w, X, y), rtol=1e-12)


def test_value_dependent_code_and_captured_dask_arrays_run_eagerly_and_lazily():
    X, y, Xd, yd = _data(n=400, chunk=100)
    w = np.linspace(-0.5, 0.5, X.shape[1])

    def branchy(w, X, y):
        return least_squares(w, X, y) if np.sum(X) > 0 else logistic(w, X, y)

    # branchy's `if` computes its condition, as it does uncompiled; nothing else is computed
    for fun, args, computations in [(cr.grad(branchy), (w, Xd, yd), 1),
                                    (cr.grad(lambda w: logistic(w, Xd, yd)), (w,), 0)]:
        f = cr.compile(fun, warn=True)
        with _CountComputations() as counter, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            g = f(*args)
        assert counter.count == computations
        assert any("running eagerly" in str(c.message) for c in caught)
        assert list(f.cache.values()) == [None]
        assert isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(), cr.grad(logistic)(w, X, y), rtol=1e-12)


def test_other_array_libraries_get_a_clear_error():
    class Duck:
        shape, dtype, ndim = (2,), np.dtype(float), 1

        def __array_function__(self, func, types, args, kwargs):
            return NotImplemented

    with pytest.raises(cr.ArrayLibraryError, match="runs NumPy and Dask arrays"):
        cr.compile(lambda x: x * 2.0)(Duck())
    with pytest.raises(cr.ArrayLibraryError, match="unknown shape"):
        Xd = da.from_array(np.arange(6.0), chunks=2)
        cr.compile(lambda x: x * 2.0)(Xd[Xd > 2])
