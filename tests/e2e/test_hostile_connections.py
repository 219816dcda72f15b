"""Connections that stall cannot take the server down: under a low open-files limit, many
connections that send part of their headers (or of a body) and stall are closed in time,
and normal calls are answered throughout."""

from __future__ import annotations

import contextlib
import socket
import sys
import time

import pytest
from support import create_image, wait_until

FILE_LIMIT = 256  # the server's, hard and soft: a quarter of the common default
STALLED = 300  # more connections than the limit allows files
HEADER_TIMEOUT = 2.0
pytestmark = pytest.mark.backends("sqlite")  # the connections, whatever the database


def _stall(port: int, first_bytes: bytes) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(first_bytes)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    """Whether the server has closed the connection (end of file or reset, no answer)."""
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


@pytest.fixture
def limited(make_server):
    return make_server(
        "--header-timeout",
        str(HEADER_TIMEOUT),
        "--body-timeout",
        str(HEADER_TIMEOUT),
        program=(
            "prlimit",
            f"--nofile={FILE_LIMIT}:{FILE_LIMIT}",
            sys.executable,
            "-m",
            "sagemaker_images",
        ),
    )


def test_stalled_connections_are_closed_and_calls_answered_meanwhile(limited, region):
    sm = limited.client(region)
    create_image(sm, "steady")
    stalled = []
    for n in range(STALLED):
        with contextlib.suppress(OSError):  # refused at once: as good as closed
            stalled.append(_stall(limited.port, b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Tar"))
        if n % 50 == 0:  # normal calls keep being answered while the stall builds
            assert sm.describe_image(ImageName="steady")["ImageStatus"] == "CREATED"
    for _ in range(10):
        assert sm.describe_image(ImageName="steady")["ImageStatus"] == "CREATED"
    # Every stalled connection is closed: pushed out by newer ones, or timed out.
    wait_until(lambda: all(_closed_by_server(s) for s in stalled), timeout=60)
    for sock in stalled:
        sock.close()
    assert sm.describe_image(ImageName="steady")["ImageStatus"] == "CREATED"
    assert "Traceback" not in limited.log()


def test_a_body_that_never_comes_and_a_header_that_never_ends_are_cut_off(limited, region):
    headers_only = _stall(limited.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    half_body = _stall(
        limited.port,
        b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: SageMaker.ListImages\r\n"
        b'Content-Type: application/x-amz-json-1.1\r\nContent-Length: 100\r\n\r\n{"Max',
    )
    started = time.monotonic()
    wait_until(lambda: _closed_by_server(headers_only) and _closed_by_server(half_body), timeout=60)
    # Not closed before its time: a slow but steady client is not cut off early.
    assert time.monotonic() - started >= HEADER_TIMEOUT - 0.5
    headers_only.close()
    half_body.close()
    assert limited.client(region).list_images()["Images"] == []
