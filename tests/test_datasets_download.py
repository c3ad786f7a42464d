"""Downloading MNIST through the real path (urllib, HTTP, Range requests)
from a server on 127.0.0.1 started here, which serves the original files
from the repository's sibling folder ../shared/data/mnist (or
$CHAINRULE_MNIST_TEST_FILES); skipped when they are absent. No test reaches
any other address: connections elsewhere fail the test."""

import http.server
import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from chainrule.datasets import download, mnist
from chainrule.datasets.download import DownloadError, fetch

ROOT = Path(__file__).resolve().parents[1]
REAL = Path(os.environ.get("CHAINRULE_MNIST_TEST_FILES") or ROOT.parent / "shared" / "data" / "mnist")
pytestmark = pytest.mark.skipif(not all((REAL / name).is_file() for name in mnist.FILES),
                                reason=f"the original MNIST files are not in {REAL}")

SMALL = "t10k-labels-idx1-ubyte.gz"  # 4,542 bytes
MEDIUM = "t10k-images-idx3-ubyte.gz"  # 1.6 MB


@pytest.fixture(autouse=True)
def local_only(monkeypatch):
    """Any connection to another host than 127.0.0.1 fails the test."""
    real = socket.create_connection

    def guarded(address, *args, **kwargs):
        assert address[0] in ("127.0.0.1", "localhost"), f"test tried to reach {address}"
        return real(address, *args, **kwargs)
    monkeypatch.setattr(socket, "create_connection", guarded)
    monkeypatch.setenv("CHAINRULE_MNIST_MIRRORS", "")


class Handler(http.server.BaseHTTPRequestHandler):
    """GET /<anything>/NAME serves NAME, honouring `Range: bytes=N-`, with
    the misbehaviour server.modes[NAME] asks for."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1]
        srv = self.server
        rng = self.headers.get("Range")
        srv.requests.append((name, rng))
        mode = srv.modes.get(name, "ok")
        data = srv.files.get(name)
        if data is None or mode == "404":
            self.send_error(404)
            return
        if mode == "stall":
            time.sleep(2)
        if mode == "corrupt":
            data = data[:1000] + bytes([data[1000] ^ 1]) + data[1001:]
        start = 0
        if rng and mode != "ignore-range":
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(data):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = mode == "truncate" or (mode == "truncate-once" and len(srv.requests) == 1)
        try:
            self.wfile.write(body[: len(body) // 2] if cut else body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (the timeout test)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def real_files():
    return {name: (REAL / name).read_bytes() for name in mnist.FILES}


@pytest.fixture
def server(real_files):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.files, srv.modes, srv.requests = real_files, {}, []
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/mnist/"
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def dead_url():
    """A URL on 127.0.0.1 where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def get(name, directory, mirrors, **kwargs):
    return fetch(name, mnist.FILES[name], directory, mirrors, progress=False, **kwargs)


def test_full_download_is_cached_and_then_read_offline(server, tmp_path, real_files, capsys):
    digits = mnist.load(tmp_path / "cache", mirrors=[server.url], progress=True)
    assert digits.train_images.shape == (60000, 28, 28) and digits.test_images.shape == (10000, 28, 28)
    assert list(digits.train_labels[:5]) == [5, 0, 4, 1, 9]
    for name in mnist.FILES:
        assert (tmp_path / "cache" / name).read_bytes() == real_files[name]
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(mnist.FILES)
    assert "train-images-idx3-ubyte.gz" in capsys.readouterr().err  # the progress bar
    served = len(server.requests)
    again = mnist.load(tmp_path / "cache", mirrors=[server.url])
    assert len(server.requests) == served  # read from the cache
    np.testing.assert_array_equal(again.test_images, digits.test_images)


def test_default_cache_follows_xdg_and_the_mirror_variable(server, tmp_path, monkeypatch):
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("CHAINRULE_MNIST_MIRRORS", f"{dead_url()} {server.url}")
    assert mnist.data_dir() == tmp_path / "xdg" / "chainrule" / "mnist"
    digits = mnist.load(progress=False, log=lambda line: None)
    assert digits.source == str(tmp_path / "xdg" / "chainrule" / "mnist")
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "mine"))
    assert mnist.data_dir() == tmp_path / "mine"


def test_corrupt_file_is_rejected_and_nothing_is_cached(server, tmp_path):
    server.modes[MEDIUM] = "corrupt"
    with pytest.raises(DownloadError, match="wrong SHA-256"):
        get(MEDIUM, tmp_path, [server.url])
    assert list(tmp_path.iterdir()) == []
    assert len(server.requests) == 1  # a whole, clean transfer of a bad file: no retry


def test_corrupt_mirror_falls_back_to_the_bundled_subset_with_one_line(server, tmp_path):
    server.modes[MEDIUM] = "corrupt"
    lines = []
    digits = mnist.load(tmp_path, mirrors=[server.url], progress=False, log=lines.append)
    assert digits.train_images.shape == (5000, 14, 14)
    assert not (tmp_path / MEDIUM).exists() and not (tmp_path / (MEDIUM + ".part")).exists()
    fallback = [line for line in lines if "bundled subset" in line]
    assert len(fallback) == 1 and "wrong SHA-256" in fallback[0] and "\n" not in fallback[0]


def test_truncated_transfer_never_lands_in_the_cache(server, tmp_path):
    server.modes[MEDIUM] = "truncate"
    with pytest.raises(DownloadError, match="cut short"):
        get(MEDIUM, tmp_path, [server.url], attempts=2)
    assert not (tmp_path / MEDIUM).exists()
    # the second try asked for the rest of the bytes
    assert server.requests[0][1] is None and server.requests[1][1].startswith("bytes=")


def test_truncated_transfer_is_resumed_with_a_range_request(server, tmp_path, real_files):
    server.modes[MEDIUM] = "truncate-once"
    path = get(MEDIUM, tmp_path, [server.url])
    assert path.read_bytes() == real_files[MEDIUM]
    half = len(real_files[MEDIUM]) // 2
    assert [r for _, r in server.requests] == [None, f"bytes={half}-"]
    assert not (tmp_path / (MEDIUM + ".part")).exists()


def test_interrupted_download_resumes_from_its_part_file(server, tmp_path, real_files):
    (tmp_path / (MEDIUM + ".part")).write_bytes(real_files[MEDIUM][:700_000])
    path = get(MEDIUM, tmp_path, [server.url])
    assert path.read_bytes() == real_files[MEDIUM]
    assert server.requests == [(MEDIUM, "bytes=700000-")]


def test_part_file_of_other_bytes_is_restarted_cleanly(server, tmp_path, real_files):
    (tmp_path / (MEDIUM + ".part")).write_bytes(b"\xff" * 700_000)
    path = get(MEDIUM, tmp_path, [server.url])
    assert path.read_bytes() == real_files[MEDIUM]
    assert [r for _, r in server.requests] == ["bytes=700000-", None]


def test_server_ignoring_the_range_restarts_from_zero(server, tmp_path, real_files):
    server.modes[MEDIUM] = "ignore-range"
    (tmp_path / (MEDIUM + ".part")).write_bytes(real_files[MEDIUM][:700_000])
    assert get(MEDIUM, tmp_path, [server.url]).read_bytes() == real_files[MEDIUM]


def test_part_file_longer_than_the_file_restarts(server, tmp_path, real_files):
    (tmp_path / (SMALL + ".part")).write_bytes(b"\0" * 10_000)
    assert get(SMALL, tmp_path, [server.url]).read_bytes() == real_files[SMALL]


def test_dead_and_missing_mirrors_are_skipped(server, tmp_path, real_files):
    path = get(SMALL, tmp_path, [dead_url(), server.url])
    assert path.read_bytes() == real_files[SMALL]
    server.modes[SMALL] = "404"
    with pytest.raises(DownloadError) as error:
        get(SMALL, tmp_path / "other", [dead_url(), server.url])
    message = str(error.value)
    assert "refused" in message.lower() and "HTTP 404" in message


def test_stalled_mirror_times_out_in_bounded_time(server, tmp_path):
    server.modes[SMALL] = "stall"
    start = time.monotonic()
    with pytest.raises(DownloadError, match="timed out"):
        get(SMALL, tmp_path, [server.url], timeout=0.3)
    assert time.monotonic() - start < 1.9  # the server answers after 2 s
    assert not (tmp_path / SMALL).exists()


def test_offline_without_cache_prints_one_line_and_uses_the_subset(tmp_path):
    lines = []
    digits = mnist.load(tmp_path / "cache", mirrors=[dead_url()], timeout=1, log=lines.append,
                        progress=False)
    assert digits.train_images.shape == (5000, 14, 14)
    assert len([line for line in lines if "bundled subset" in line]) == 1
    with pytest.raises(DownloadError):
        mnist.load(tmp_path / "cache", mirrors=[dead_url()], fallback=False, log=lines.append,
                   progress=False)


def test_corrupt_cached_file_is_fetched_again(server, tmp_path, real_files):
    for name, data in real_files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / SMALL).write_bytes(b"not mnist")
    lines = []
    digits = mnist.load(tmp_path, mirrors=[server.url], progress=False, log=lines.append)
    assert digits.test_labels.shape == (10000,)
    assert (tmp_path / SMALL).read_bytes() == real_files[SMALL]
    assert server.requests == [(SMALL, None)]
    assert any("fails its SHA-256 check" in line for line in lines)


def test_reason_names_the_http_status():
    import urllib.error
    assert download._reason(urllib.error.HTTPError("u", 503, "Busy", {}, None)) == "HTTP 503 Busy"
