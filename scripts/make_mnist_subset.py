"""Write src/chainrule/datasets/mnist_subset.npz from the original MNIST files.

The subset is the first 5000 training and first 1000 test images, each
averaged down from 28 x 28 to 14 x 14 pixels (uint8), with their labels:
small enough to ship inside the package (a few hundred KB), large enough to
train the demo's MLP to about 90% test accuracy.

    python scripts/make_mnist_subset.py [MNIST_DIR]

MNIST_DIR defaults to $CHAINRULE_DATA, else ../shared/data/mnist.
"""

import io
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from chainrule.datasets import mnist  # noqa: E402

N_TRAIN, N_TEST = 5000, 1000
OUT = ROOT / "src" / "chainrule" / "datasets" / mnist.SUBSET


def write_npz(path, arrays):
    """np.savez_compressed, but with fixed zip timestamps so reruns give the same bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buffer.getvalue(), compresslevel=9)


def main(argv):
    default = os.environ.get("CHAINRULE_DATA") or ROOT.parent / "shared" / "data" / "mnist"
    digits = mnist.load_directory(argv[1] if len(argv) > 1 else default)
    write_npz(OUT, {
        "train_images": mnist.downsample(digits.train_images[:N_TRAIN]),
        "train_labels": digits.train_labels[:N_TRAIN],
        "test_images": mnist.downsample(digits.test_images[:N_TEST]),
        "test_labels": digits.test_labels[:N_TEST],
    })
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB) from {digits.source}")


if __name__ == "__main__":
    main(sys.argv)
