"""Fixtures for `comment-guard serve`: the demo's archive, and the page served on loopback."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from guard.demo.story import run_demo
from guard.web.server import ServeOptions, WebServer


@pytest.fixture(scope="session")
def demo_archive(tmp_path_factory) -> Path:
    """The archive `make demo` leaves: a corrected post, a deleted question, an open finding."""
    return run_demo(workdir=tmp_path_factory.mktemp("demo"), speed=0).database


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def served(options: ServeOptions) -> Iterator[str]:
    """Run the real server (Datasette under uvicorn) on a loopback socket; yield its base URL.

    The socket is bound here, so ``options.host`` decides only what the server requires (a
    password off loopback) and the test never listens beyond 127.0.0.1.
    """
    server = WebServer(options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    thread = threading.Thread(target=server.serve, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        thread.join(timeout=10)
        sock.close()
