"""Downloading a file from a list of mirrors: checksummed, atomic, resumable.

The bytes go to `NAME.part` beside the destination; only when the whole
file is there and its SHA-256 is the expected one is it renamed (atomically)
to `NAME`. So a partial or corrupt download never takes the file's place. A
transfer cut short leaves its `.part`, which the next attempt resumes with an
HTTP Range request (or restarts, when the server ignores the range or the
resumed file fails its checksum). Every network call has a timeout of
`timeout` seconds (connecting, and each read).

Example:
    >>> fetch("t10k-labels-idx1-ubyte.gz", FILES["t10k-labels-idx1-ubyte.gz"],
    ...       "data", ["https://example.org/mnist/"])  # doctest: +SKIP
    PosixPath('data/t10k-labels-idx1-ubyte.gz')
"""

import hashlib
import http.client
import os
import socket
import urllib.error
import urllib.request
from pathlib import Path

from .progress import progress_bar

CHUNK = 1 << 16


class DownloadError(OSError):
    """No mirror delivered the file intact; the message says what each one did."""


class _Incomplete(OSError):
    """The connection ended before the announced number of bytes arrived."""


class _Restart(Exception):
    """The partial file cannot be resumed: start again from byte zero."""


def fetch(name, sha256, directory, mirrors, timeout=10.0, attempts=3, progress=True, log=None):
    """Download `name` into `directory` from the first mirror that delivers
    it with the given SHA-256; returns its path.

    Each mirror is a base URL; the file is fetched from `base/name`. A
    mirror gets up to `attempts` tries: a transfer cut short is resumed, a
    file failing its checksum is fetched once more from scratch, an
    unreachable mirror or an HTTP error moves on to the next mirror.
    Raises DownloadError, naming what each mirror did, when none succeeds.
    `log` (a callable taking one line of text) hears about each try.

    Example:
        >>> fetch("a.gz", "0" * 64, ".", [])
        Traceback (most recent call last):
        ...
        chainrule.datasets.download.DownloadError: cannot download a.gz: no mirror given
    """
    directory = Path(directory)
    final, part = directory / name, directory / (name + ".part")
    failures = []
    for base in mirrors:
        url = base.rstrip("/") + "/" + name
        for attempt in range(attempts):
            if log:
                resuming = part.is_file() and part.stat().st_size
                log(f"{'resuming' if resuming else 'downloading'} {url}")
            try:
                resumed = _transfer(url, part, timeout, progress, name)
            except _Incomplete as e:
                failures.append(f"{url}: {e}")
                continue  # the .part stays: resume it
            except (OSError, http.client.HTTPException) as e:
                failures.append(f"{url}: {_reason(e)}")
                break  # the mirror is down or refuses: try the next one
            digest = sha256_of(part)
            if digest == sha256:
                os.replace(part, final)
                return final
            part.unlink()
            failures.append(f"{url}: wrong SHA-256 {digest[:12]}..., expected {sha256[:12]}...")
            if not resumed:
                break  # a whole transfer failed: this mirror serves a bad file
    if not mirrors:
        raise DownloadError(f"cannot download {name}: no mirror given")
    raise DownloadError(f"cannot download {name}: " + "; ".join(failures))


def _transfer(url, part, timeout, progress, name):
    """Fetch url into `part`, appending to what is there when the server
    honours a Range request; raise _Incomplete when the body is cut short.
    Returns whether earlier bytes were kept (a resumed transfer)."""
    try:
        return _transfer_once(url, part, timeout, progress, name)
    except _Restart:
        part.unlink(missing_ok=True)
        return _transfer_once(url, part, timeout, progress, name)


def _transfer_once(url, part, timeout, progress, name):
    have = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": "chainrule"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # range not satisfiable: the .part is not a prefix
            raise _Restart() from None
        raise
    with response:
        status = getattr(response, "status", None) or 200
        if status == 206:
            start = _range_start(response.headers.get("Content-Range", ""))
            if start != have:
                raise _Restart()
            mode = "ab"
        else:
            have, mode = 0, "wb"  # the server sent the whole file
        length = response.headers.get("Content-Length")
        length = int(length) if length is not None and length.isdigit() else None
        total = have + length if length is not None else None
        received = 0
        part.parent.mkdir(parents=True, exist_ok=True)
        bar = progress_bar(total=total, desc=name, bytes=True) if progress else None
        try:
            if bar is not None and have:
                bar.update(have)
            with open(part, mode) as f:
                while True:
                    try:
                        chunk = response.read(CHUNK)
                    except http.client.IncompleteRead as e:
                        f.write(e.partial)
                        received += len(e.partial)
                        break
                    except (OSError, http.client.HTTPException) as e:  # reset, timeout
                        raise _Incomplete(f"transfer broken after {have + received} bytes "
                                          f"({_reason(e)})") from None
                    if not chunk:
                        break
                    f.write(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        if length is not None and received < length:
            raise _Incomplete(f"transfer cut short after {have + received} of {total} bytes")
        return have > 0


def _range_start(content_range):
    """The first byte of a `Content-Range: bytes START-END/TOTAL` header (None if unreadable).

    Example:
        >>> _range_start("bytes 100-199/200")
        100
    """
    try:
        return int(content_range.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _reason(error):
    """A short description of a network error, for a one-line message.

    Example:
        >>> _reason(urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")))
        'Connection refused'
    """
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        error = error.reason
    if isinstance(error, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def sha256_of(path):
    """The SHA-256 of the file at `path`, as hex.

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "empty")
        >>> open(path, "wb").close()
        >>> sha256_of(path)[:16]
        'e3b0c44298fc1c14'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
