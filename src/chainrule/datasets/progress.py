"""A progress bar: tqdm's when it is installed, else a plain one-line bar.

Both take `total`, `desc` and `unit`, and offer `update(n)`,
`set_postfix_str(text)` and `close()` (also as a context manager), the
subset of tqdm's interface the downloads and the demo use.

Example:
    >>> import io
    >>> with progress_bar(total=4, desc="demo", stream=io.StringIO(), plain=True) as bar:
    ...     bar.update(4)
    >>> bar.n
    4
"""

import sys
import time


class PlainBar:
    """A text bar redrawn in place with a carriage return: `desc  42% [====    ] 21/50`."""

    width = 24

    def __init__(self, total=None, desc="", unit="it", stream=None, scale=1, min_interval=0.1):
        self.total, self.desc, self.unit, self.scale = total, desc, unit, scale
        self.stream = sys.stderr if stream is None else stream
        self.n, self.postfix = 0, ""
        self.min_interval, self._drawn = min_interval, -1.0

    def update(self, n=1):
        self.n += n
        if time.monotonic() - self._drawn >= self.min_interval:
            self._draw()

    def set_postfix_str(self, text):
        self.postfix = text
        self._draw()

    def _line(self):
        count = f"{self.n / self.scale:.1f}" if self.scale != 1 else f"{self.n}"
        if self.total:
            done = min(self.n / self.total, 1.0)
            bar = "=" * int(done * self.width)
            total = f"{self.total / self.scale:.1f}" if self.scale != 1 else f"{self.total}"
            line = f"{self.desc} {done:4.0%} [{bar:<{self.width}}] {count}/{total} {self.unit}"
        else:
            line = f"{self.desc} {count} {self.unit}"
        return f"{line}  {self.postfix}".rstrip()

    def _draw(self):
        self._drawn = time.monotonic()
        self.stream.write("\r" + self._line())
        self.stream.flush()

    def close(self):
        self._draw()
        self.stream.write("\n")
        self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def progress_bar(total=None, desc="", unit="it", bytes=False, stream=None, plain=False):
    """A progress bar over `total` units (bytes, shown in MB, when `bytes`).

    tqdm's when it is importable and `plain` is false, else a PlainBar.
    Output goes to `stream` (default stderr).
    """
    if not plain:
        try:
            from tqdm import tqdm
        except ImportError:
            pass
        else:
            extra = dict(unit="B", unit_scale=True, unit_divisor=1024) if bytes else dict(unit=unit)
            return tqdm(total=total, desc=desc, file=stream, leave=True, **extra)
    if bytes:
        return PlainBar(total, desc, "MB", stream, scale=2**20)
    return PlainBar(total, desc, unit, stream)
