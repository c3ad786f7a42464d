"""The IDX file format (MNIST's): a big-endian header, then a raw array.

Header: two zero bytes, a type code, the number of dimensions, then one
big-endian int32 per dimension. The data follows in C order.
"""

import gzip

import numpy as np

# IDX type code -> big-endian NumPy dtype
DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def parse_idx(data, name="data"):
    """The array held in the IDX bytes `data` (native byte order).

    `name` only labels error messages.

    Example:
        >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
        array([7, 8, 9], dtype=uint8)
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name} is not an IDX file (its first two bytes must be zero)")
    code, ndim = data[2], data[3]
    if code not in DTYPES:
        raise ValueError(f"{name} has unknown IDX type code 0x{code:02x}")
    start = 4 + 4 * ndim
    if len(data) < start:
        raise ValueError(f"{name} is truncated inside its IDX header")
    shape = tuple(int(n) for n in np.frombuffer(data, ">i4", ndim, offset=4))
    dtype = DTYPES[code]
    expected = start + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{name} holds {len(data)} bytes; its IDX header {shape} "
                         f"of {dtype.name} needs {expected}")
    array = np.frombuffer(data, dtype, offset=start).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


def read_idx(path):
    """The array in the IDX file at `path` (gzip-compressed if it ends in .gz).

    Example:
        >>> images = read_idx("train-images-idx3-ubyte.gz")  # doctest: +SKIP
        >>> images.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    path = str(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        return parse_idx(f.read(), name=path)
