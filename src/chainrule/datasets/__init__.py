"""Data sets for the demos and benchmarks, usable offline.

    >>> from chainrule.datasets import mnist
    >>> mnist.bundled().train_images.shape
    (5000, 14, 14)
"""

from . import mnist

__all__ = ["mnist"]
