"""The MNIST loader: IDX parsing, checksums, search order and the bundled subset."""

import gzip
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import mnist
from chainrule.datasets.idx import parse_idx, read_idx

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("CHAINRULE_MNIST_TEST_FILES") or ROOT.parent / "shared" / "data" / "mnist")
needs_real = pytest.mark.skipif(not all((REAL / name).is_file() for name in mnist.FILES),
                                reason=f"the original MNIST files are not in {REAL}")

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def idx_bytes(array, code):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype, code", [(np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B),
                                         (np.int32, 0x0C), (np.float32, 0x0D), (np.float64, 0x0E)])
def test_parse_idx_round_trips_every_type(dtype, code):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    parsed = parse_idx(idx_bytes(array, code))
    assert parsed.dtype == np.dtype(dtype) and parsed.dtype.isnative
    np.testing.assert_array_equal(parsed, array)


@pytest.mark.parametrize("data, message", [
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x07", "not an IDX file"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x07", "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01", "truncated"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x07\x08", "holds 10 bytes"),
])
def test_parse_idx_rejects_bad_files(data, message):
    with pytest.raises(ValueError, match=message):
        parse_idx(data)


def test_read_idx_reads_gzip_and_plain(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    (tmp_path / "a.idx").write_bytes(idx_bytes(array, 0x08))
    with gzip.open(tmp_path / "a.idx.gz", "wb") as f:
        f.write(idx_bytes(array, 0x08))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), array)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx.gz"), array)


def test_downsample_averages_blocks():
    images = np.arange(32, dtype=np.uint8).reshape(2, 4, 4)
    expected = np.array([[[2.5, 4.5], [10.5, 12.5]], [[18.5, 20.5], [26.5, 28.5]]])
    np.testing.assert_array_equal(mnist.downsample(images), np.rint(expected).astype(np.uint8))


def test_bundled_subset_is_digits():
    d = mnist.bundled()
    assert d.train_images.shape == (5000, 14, 14) and d.test_images.shape == (1000, 14, 14)
    assert d.train_labels.shape == (5000,) and d.test_labels.shape == (1000,)
    for a in (d.train_images, d.train_labels, d.test_images, d.test_labels):
        assert a.dtype == np.uint8
    assert d.train_images.max() == 255 and d.train_images.min() == 0
    assert np.all(np.bincount(d.train_labels, minlength=10) > 400)
    assert set(np.unique(d.test_labels)) == set(range(10))
    assert list(d.train_labels[:5]) == [5, 0, 4, 1, 9]  # MNIST's first training labels
    assert "bundled" in d.source


def test_bundled_file_is_small():
    size = (Path(mnist.__file__).parent / mnist.SUBSET).stat().st_size
    assert size < 500_000


@needs_real
def test_real_files_load_with_published_counts():
    d = mnist.load(REAL, download=False)
    assert d.train_images.shape == (60000, 28, 28) and d.test_images.shape == (10000, 28, 28)
    assert list(np.bincount(d.train_labels)) == TRAIN_COUNTS
    assert list(np.bincount(d.test_labels)) == TEST_COUNTS
    assert d.source == str(REAL)


@needs_real
def test_bundled_subset_is_the_first_real_images_downsampled():
    real, sub = mnist.load(REAL, download=False), mnist.bundled()
    np.testing.assert_array_equal(sub.train_images, mnist.downsample(real.train_images[:5000]))
    np.testing.assert_array_equal(sub.test_labels, real.test_labels[:1000])


@needs_real
def test_env_var_directory_is_used(monkeypatch):
    monkeypatch.setenv("CHAINRULE_DATA", str(REAL))
    assert mnist.load(download=False).train_images.shape == (60000, 28, 28)


@needs_real
def test_corrupt_file_fails_its_checksum(tmp_path):
    for name in mnist.FILES:
        shutil.copy(REAL / name, tmp_path / name)
    data = bytearray((tmp_path / "t10k-labels-idx1-ubyte.gz").read_bytes())
    data[-1] ^= 1
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte.gz is corrupt"):
        mnist.load_directory(tmp_path)


def test_a_folder_under_home_is_named_from_the_home_folder(monkeypatch, tmp_path):
    # messages (and logs kept of them) must not name the machine's home folder
    monkeypatch.setenv("HOME", str(tmp_path))
    lines = []
    mnist.load(tmp_path / ".cache" / "mnist", download=False, log=lines.append)
    assert lines[0].startswith("MNIST not found in ~/.cache/mnist and downloading is off")
    assert str(tmp_path) not in lines[0]


def test_missing_files_fall_back_to_the_bundled_subset_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path))
    lines = []
    d = mnist.load(download=False, log=lines.append)
    assert d.train_images.shape == (5000, 14, 14)
    assert lines == [f"MNIST not found in {tmp_path} and downloading is off: using the bundled "
                     "subset (5000 training and 1000 test images, 14 x 14 pixels)"]
    with pytest.raises(FileNotFoundError, match="not found in"):
        mnist.load(download=False, fallback=False)


def test_explicit_directory_must_hold_the_files(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="lacks the MNIST file.*train-labels"):
        mnist.load_directory(tmp_path)


def test_mirrors_come_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.setenv("CHAINRULE_MNIST_MIRRORS", "http://a/ http://b/")
    assert mnist.mirror_urls() == ["http://a/", "http://b/"]
    assert mnist.mirror_urls("http://c/") == ["http://c/"]
    monkeypatch.delenv("CHAINRULE_MNIST_MIRRORS")
    assert mnist.mirror_urls() == list(mnist.MIRRORS)


def test_unwritable_data_directory_falls_back(tmp_path):
    (tmp_path / "file").write_bytes(b"")
    lines = []
    d = mnist.load(tmp_path / "file" / "mnist", mirrors=[], log=lines.append)
    assert d.train_images.shape == (5000, 14, 14) and len(lines) == 1
    assert "cannot create" in lines[0]


def test_plain_progress_bar_draws_in_place():
    import io
    from chainrule.datasets.progress import progress_bar
    stream = io.StringIO()
    with progress_bar(total=4 * 2**20, desc="file.gz", bytes=True, stream=stream, plain=True) as bar:
        bar.update(2**20)
        bar.set_postfix_str("resumed")
        bar.update(3 * 2**20)
    lines = stream.getvalue().split("\r")
    assert lines[-1].startswith("file.gz 100% [========================] 4.0/4.0 MB  resumed")
    assert stream.getvalue().endswith("\n")
