"""MNIST handwritten digits: the original IDX files, or a bundled subset.

`load()` looks for the four original gzip files (checked against their
published SHA-256) in, in order: the directory passed in, `$CHAINRULE_DATA`
(or its `mnist/` folder), and `~/.cache/chainrule/mnist`. When none has them
it falls back, with a warning, to the subset shipped inside this package
(`mnist_subset.npz`: the first 5000 training and 1000 test images averaged
down to 14 x 14 pixels, made by `scripts/make_mnist_subset.py`), so the demo
runs offline.
"""

import dataclasses
import hashlib
import os
import warnings
from importlib import resources
from pathlib import Path

import numpy as np

from .idx import read_idx

# file -> sha256 of the canonical gzip file
FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
SUBSET = "mnist_subset.npz"


@dataclasses.dataclass(frozen=True)
class Digits:
    """Images (uint8, n x rows x cols, 0 = background) and labels (uint8, 0-9);
    `source` says where they came from."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str


def load(directory=None, fallback=True):
    """The MNIST digits: the full set if found, else the bundled subset.

    A `directory` given explicitly must hold the four files (else
    FileNotFoundError). Otherwise `$CHAINRULE_DATA` and
    `~/.cache/chainrule/mnist` are searched, and when neither holds them the
    bundled subset is returned with a warning (or FileNotFoundError when
    `fallback` is false). A file whose SHA-256 differs from the published
    one raises ValueError.

    Example:
        >>> digits = load()  # doctest: +SKIP
        >>> digits.train_images.shape, digits.test_labels.shape  # doctest: +SKIP
        ((60000, 28, 28), (10000,))
    """
    if directory is not None:
        return load_directory(directory)
    for candidate in search_path():
        if all((candidate / name).is_file() for name in FILES):
            return load_directory(candidate)
    searched = ", ".join(str(p) for p in search_path())
    if not fallback:
        raise FileNotFoundError(f"no MNIST files ({', '.join(FILES)}) in {searched}")
    warnings.warn(f"MNIST files not found (searched {searched}); using the bundled "
                  "subset of 5000 training and 1000 test images at 14 x 14 pixels",
                  stacklevel=2)
    return bundled()


def search_path():
    """The directories `load()` searches, in order.

    Example:
        >>> search_path()[-1].parts[-3:]  # doctest: +SKIP
        ('.cache', 'chainrule', 'mnist')
    """
    paths = []
    env = os.environ.get("CHAINRULE_DATA")
    if env:
        paths += [Path(env).expanduser(), Path(env).expanduser() / "mnist"]
    paths.append(Path.home() / ".cache" / "chainrule" / "mnist")
    return paths


def load_directory(directory):
    """The full MNIST set from the four gzip files in `directory`, checksummed.

    Example:
        >>> load_directory("/data/mnist").train_labels[:5]  # doctest: +SKIP
        array([5, 0, 4, 1, 9], dtype=uint8)
    """
    directory = Path(directory).expanduser()
    missing = [name for name in FILES if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory} lacks the MNIST file(s) {', '.join(missing)}")
    arrays = []
    for name, expected in FILES.items():
        path = directory / name
        verify(path, expected)
        arrays.append(read_idx(path))
    return Digits(*arrays, source=str(directory))


def verify(path, expected_sha256):
    """Raise ValueError unless the file at `path` has the given SHA-256.

    Example:
        >>> verify("t10k-labels-idx1-ubyte.gz", FILES["t10k-labels-idx1-ubyte.gz"])  # doctest: +SKIP
    """
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    if digest != expected_sha256:
        raise ValueError(f"{path} is corrupt or not the canonical MNIST file: "
                         f"sha256 {digest}, expected {expected_sha256}")


def bundled():
    """The subset shipped with chainrule (14 x 14 pixels, 5000 + 1000 images).

    Example:
        >>> digits = bundled()
        >>> digits.train_images.shape, digits.test_images.shape
        ((5000, 14, 14), (1000, 14, 14))
    """
    with resources.files(__package__).joinpath(SUBSET).open("rb") as f, np.load(f) as data:
        return Digits(data["train_images"], data["train_labels"],
                      data["test_images"], data["test_labels"],
                      source=f"bundled subset ({SUBSET})")


def downsample(images, factor=2):
    """Average `factor` x `factor` pixel blocks, rounding back to uint8.

    Example:
        >>> downsample(np.array([[[0, 2], [4, 6]]], np.uint8))
        array([[[3]]], dtype=uint8)
    """
    n, rows, cols = images.shape
    blocks = images.reshape(n, rows // factor, factor, cols // factor, factor)
    return np.rint(blocks.mean(axis=(2, 4))).astype(np.uint8)
