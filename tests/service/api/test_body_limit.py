"""An oversize body gets its 413, read by the client: 50 concurrent clients sending 2 MB
each all get the answer, none a reset connection or a broken pipe."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from service.settings import Settings
from tests.fixtures import AUDIT_KEY, RULES
from tests.loopback import serving

CLIENTS = 50
BODY = b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'


def _post_raw(host: str, port: int, *, chunked: bool) -> str:
    """Send the head, then the whole body (declared, or chunked without a length), then read
    the answer;
    returns its status line, or the name of the socket error."""
    head = "POST /v1/decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += (
        "Transfer-Encoding: chunked\r\n\r\n" if chunked else f"Content-Length: {len(BODY)}\r\n\r\n"
    )
    try:
        with socket.create_connection((host, port), timeout=30) as connection:
            connection.sendall(head.encode())
            time.sleep(0.1)  # an upload over a real network: the body comes after the head
            if chunked:
                for start in range(0, len(BODY), 65536):
                    piece = BODY[start : start + 65536]
                    connection.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                connection.sendall(b"0\r\n\r\n")
            else:
                connection.sendall(BODY)
            answer = connection.recv(4096).decode(errors="replace")
    except OSError as exc:
        return type(exc).__name__
    return answer.split("\r\n", 1)[0]


@pytest.mark.parametrize("http", ["httptools", "h11"])
def test_fifty_concurrent_oversize_bodies_all_get_their_413(
    database_url: str, tmp_path: Path, http: str
) -> None:
    settings = Settings(database_url=database_url, audit_signing_key=AUDIT_KEY, rules=RULES)
    with serving(settings, http=http) as url:
        parts = urlsplit(url)
        host, port = str(parts.hostname), int(parts.port or 0)
        with ThreadPoolExecutor(CLIENTS) as pool:
            declared = list(
                pool.map(lambda _: _post_raw(host, port, chunked=False), range(CLIENTS))
            )
            streamed = list(pool.map(lambda _: _post_raw(host, port, chunked=True), range(10)))
    assert declared == ["HTTP/1.1 413 Request Entity Too Large"] * CLIENTS
    assert streamed == ["HTTP/1.1 413 Request Entity Too Large"] * 10
