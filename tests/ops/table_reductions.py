"""Op table: reductions (sum, prod, extrema, moments, cumulative) and their ufunc methods."""

import numpy as np

from .spec import Op, pos, rand
from .table_indexing import distinct


def cases(*shapes, maker=rand):
    """One-argument cases, one per shape."""
    return tuple((maker(*s),) for s in shapes)


def with_zeros(*shape, at=(0,)):
    """Random array with exact zeros at the given flat positions."""
    x = rand(*shape)
    x.flat[list(at)] = 0.0
    return x


def with_nans(*shape):
    x = rand(*shape)
    x.flat[1] = np.nan
    return x


# fmt: off
OPS = [
    Op("sum", lambda x: np.sum(x), cases((), (3,), (2, 3), (0, 3))),
    Op("sum_axis", lambda x: np.sum(x, axis=-1), cases((3,), (2, 3), (2, 0)), covers=("sum",)),
    Op("sum_keepdims", lambda x: x.sum(axis=(0, -1), keepdims=True), cases((2, 3, 4), (4, 0)),
       covers=("sum",)),
    Op("sum_where", lambda x: np.sum(x, axis=0, where=np.array([True, False, True]), initial=1.5),
       cases((3,), (2, 3)), covers=("sum", "where")),
    Op("add.reduce", lambda x: np.add.reduce(x), cases((3,), (2, 3)), covers=("sum",)),
    Op("mean", lambda x: np.mean(x), cases((), (3,), (2, 3)), covers=("sum", "divide")),
    Op("mean_axis", lambda x: x.mean(axis=-2, keepdims=True), cases((2, 3), (4, 2, 3)),
       covers=("sum", "divide")),
    Op("var", lambda x: np.var(x), cases((3,), (2, 3)), covers=("sum", "multiply")),
    Op("var_ddof", lambda x: np.var(x, axis=-1, ddof=1, keepdims=True), cases((4,), (2, 3)),
       covers=("sum",)),
    Op("std", lambda x: np.std(x, axis=0, ddof=1), cases((4,), (3, 2)), covers=("sum", "sqrt")),
    Op("nansum", lambda x: np.nansum(x, axis=-1), cases((3,), (2, 3), maker=with_nans),
       covers=("sum", "where")),
    Op("nanmean", lambda x: np.nanmean(x), cases((3,), (2, 3), maker=with_nans),
       covers=("sum", "where")),
    Op("prod", lambda x: np.prod(x), cases((), (1,), (3,), (2, 5), (0,)), covers=("multiply",)),
    Op("prod_axis", lambda x: np.prod(x, axis=(-1, 0), keepdims=True), cases((3, 2, 7), (2, 0)),
       covers=("multiply",)),
    Op("prod_zeros", lambda x: x.prod(axis=-1), (
        (with_zeros(5),), (with_zeros(6, at=(0, 3)),), (with_zeros(2, 3, at=(1, 2, 4)),)),
       covers=("multiply", "concatenate")),
    Op("multiply.reduce", lambda x: np.multiply.reduce(x), cases((3,), (3, 2)),
       covers=("multiply",)),
    Op("max", lambda x: np.max(x), cases((), (3,), (2, 3), maker=distinct), covers=("amax",)),
    Op("amax_axis", lambda x: np.amax(x, axis=-1, keepdims=True),
       cases((3,), (2, 3, 4), maker=distinct),
       covers=("amax",)),
    Op("max_initial", lambda x: x.max(axis=0, initial=0.45), cases((3,), (4, 3), maker=distinct),
       covers=("amax",)),
    Op("min", lambda x: np.min(x, axis=(0, 2)), cases((2, 3, 4), maker=distinct), covers=("amax",)),
    Op("amin", lambda x: np.amin(x), cases((), (5,), (2, 3), maker=distinct), covers=("amax",)),
    Op("maximum.reduce", lambda x: np.maximum.reduce(x, axis=-1),
       cases((3,), (2, 3), maker=distinct),
       covers=("amax",)),
    Op("minimum.reduce", lambda x: np.minimum.reduce(x), cases((3,), (2, 3), maker=distinct),
       covers=("amax",)),
    Op("cumsum", lambda x: np.cumsum(x), cases((), (3,), (2, 3), (0,))),
    Op("cumsum_axis", lambda x: x.cumsum(axis=-2), cases((2, 3), (3, 4, 2)), covers=("cumsum",)),
    Op("add.accumulate", lambda x: np.add.accumulate(x), cases((4,), (3, 2)), covers=("cumsum",)),
    Op("cumprod", lambda x: np.cumprod(x), cases((), (5,), (2, 3)), covers=("multiply",)),
    Op("cumprod_zeros", lambda x: np.cumprod(x, axis=-1), (
        (with_zeros(7, at=(2,)),), (with_zeros(2, 4, at=(0, 5, 7)),)), covers=("multiply",)),
    Op("multiply.accumulate", lambda x: np.multiply.accumulate(x, axis=1), cases((2, 5),),
       covers=("multiply",)),
    Op("diff", lambda x: np.diff(x) + np.diff(x, 2, axis=0, prepend=0.5).sum(), cases((3, 4),),
       covers=("getitem", "subtract", "concatenate")),
    Op("mean_var_std_chain", lambda x, y: np.std(x * y, axis=-1) + np.var(x) * np.mean(y),
       ((rand(4), pos(4)), (rand(2, 3), rand(3))), covers=("sum",)),
]
# fmt: on
