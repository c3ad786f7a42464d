"""MNIST handwritten digits: the original IDX files, downloaded once and
cached, or a bundled subset when they cannot be had.

`load()` reads the four original gzip files from the data directory
(`directory`, else `$CHAINRULE_DATA`, else `$XDG_CACHE_HOME/chainrule/mnist`,
by default `~/.cache/chainrule/mnist`), each checked against its published
SHA-256. Files missing there are downloaded from the mirrors (`mirrors`, else
the space-separated base URLs in `$CHAINRULE_MNIST_MIRRORS`, else `MIRRORS`)
with a progress bar, checksummed before they are stored (see download.py:
atomic, resumable, bounded timeouts). When that fails too (offline, say) it
prints one line and returns the subset shipped inside this package
(`mnist_subset.npz`: the first 5000 training and 1000 test images averaged
down to 14 x 14 pixels, made by `scripts/make_mnist_subset.py`), so the demo
runs anywhere.
"""

import dataclasses
import os
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from .download import DownloadError, fetch, sha256_of
from .idx import read_idx

# file -> sha256 of the canonical gzip file
FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# base URLs serving the four canonical files, tried in order
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
SUBSET = "mnist_subset.npz"
TIMEOUT = 10.0  # seconds, for connecting and for each read


@dataclasses.dataclass(frozen=True)
class Digits:
    """Images (uint8, n x rows x cols, 0 = background) and labels (uint8, 0-9);
    `source` says where they came from."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str


def load(directory=None, mirrors=None, download=True, fallback=True, timeout=TIMEOUT,
         progress=True, log=None):
    """The MNIST digits: the full set if it can be had, else the bundled subset.

    Files are read from `directory` (default `data_dir()`); missing or
    corrupt ones are downloaded there from `mirror_urls(mirrors)` unless
    `download` is false. When the full set cannot be had, one line saying
    why goes to `log` (a callable, default: print to stderr) and the bundled
    subset is returned, or, when `fallback` is false, the error is raised
    (DownloadError, an OSError).

    Example:
        >>> digits = load()  # doctest: +SKIP
        >>> digits.train_images.shape, digits.test_labels.shape  # doctest: +SKIP
        ((60000, 28, 28), (10000,))
        >>> import tempfile
        >>> load(tempfile.mkdtemp(), download=False, log=print).train_images.shape  # doctest: +ELLIPSIS
        MNIST not found in ... and downloading is off: using the bundled subset (5000 training and 1000 test images, 14 x 14 pixels)
        (5000, 14, 14)
    """
    log = _stderr if log is None else log
    directory = Path(directory).expanduser() if directory is not None else data_dir()
    try:
        return _load_or_fetch(directory, mirrors, download, timeout, progress, log)
    except OSError as e:
        if not fallback:
            raise
        log(f"MNIST {_describe(e)}: using the bundled subset "
            "(5000 training and 1000 test images, 14 x 14 pixels)")
        return bundled()


def _load_or_fetch(directory, mirrors, download, timeout, progress, log):
    missing = []
    for name, expected in FILES.items():
        path = directory / name
        if not path.is_file():
            missing.append(name)
        elif sha256_of(path) != expected:
            log(f"{shown(path)} fails its SHA-256 check: fetching it again")
            missing.append(name)
    if missing and not download:
        raise FileNotFoundError(f"not found in {shown(directory)} and downloading is off")
    if missing:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OSError(f"cannot create {shown(directory)} ({e.strerror or e})") from None
        urls = mirror_urls(mirrors)
        for name in missing:
            fetch(name, FILES[name], directory, urls, timeout=timeout, progress=progress, log=log)
    # every file has now passed its checksum
    return Digits(*(read_idx(directory / name) for name in FILES), source=str(directory))


def shown(path):
    """`path` as messages print it: under the home folder as `~/...`, so a
    message (or a log kept of it) names no one's home folder.

    Example:
        >>> shown(Path.home() / ".cache" / "chainrule" / "mnist")
        '~/.cache/chainrule/mnist'
    """
    path = Path(path)
    home = Path.home()
    return "~/" + path.relative_to(home).as_posix() if path.is_relative_to(home) and path != home else str(path)


def _describe(error):
    if isinstance(error, (FileNotFoundError, DownloadError)) or not error.strerror:
        return str(error)
    return f"unavailable ({error.strerror})"


def _stderr(line):
    print(line, file=sys.stderr, flush=True)


def data_dir():
    """Where MNIST is looked for and cached: `$CHAINRULE_DATA` if set, else
    `chainrule/mnist` in the user's cache directory (`$XDG_CACHE_HOME`, by
    default `~/.cache`).

    Example:
        >>> data_dir().parts[-2:]  # doctest: +SKIP
        ('chainrule', 'mnist')
    """
    env = os.environ.get("CHAINRULE_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    # the XDG spec: a relative path is invalid and must be ignored
    root = Path(cache) if cache and os.path.isabs(cache) else Path.home() / ".cache"
    return root / "chainrule" / "mnist"


def mirror_urls(mirrors=None):
    """The base URLs to download from: `mirrors` (a string or a list of
    strings, each holding space-separated URLs), else those in
    `$CHAINRULE_MNIST_MIRRORS`, else MIRRORS.

    Example:
        >>> mirror_urls(["http://a/ http://b/", "http://c/"])
        ['http://a/', 'http://b/', 'http://c/']
    """
    if mirrors is None:
        env = os.environ.get("CHAINRULE_MNIST_MIRRORS")
        mirrors = env if env is not None else list(MIRRORS)
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    return [url for entry in mirrors for url in entry.split()]


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
    digest = sha256_of(path)
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

