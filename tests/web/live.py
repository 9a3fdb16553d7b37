"""The real app under uvicorn on 127.0.0.1, and a raw HTTP/1.1 client that can send anything.

An ordinary client refuses what an attacker (or a broken proxy) sends: non-ASCII header
values, malformed Host headers, a body shorter than its Content-Length. This one writes the
request bytes as given, reads the answer, and says whether the server kept the connection.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

import uvicorn
from starlette.types import ASGIApp
from twilio.request_validator import RequestValidator

from tests.conftest import AUTH_TOKEN

Headers = Sequence[tuple[bytes | str, bytes | str]]


@contextmanager
def live_server(app: ASGIApp) -> Iterator[int]:
    """Serve `app` with uvicorn (its default HTTP implementation) and yield the port."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        time.sleep(0.01)
    assert server.started, "the server did not start"
    try:
        yield int(sock.getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


def _bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


class Connection:
    """One kept-alive TCP connection to the server."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def request(
        self,
        method: str,
        path: bytes | str,
        headers: Headers = (),
        body: bytes = b"",
        *,
        host: bytes | str | None = None,
        content_length: bool = True,
    ) -> Reply:
        head = [_bytes(method) + b" " + _bytes(path) + b" HTTP/1.1"]
        head.append(b"Host: " + _bytes(host if host is not None else f"127.0.0.1:{self.port}"))
        for name, value in headers:
            head.append(_bytes(name) + b": " + _bytes(value))
        if content_length:
            head.append(b"Content-Length: " + str(len(body)).encode())
        self.send_raw(b"\r\n".join(head) + b"\r\n\r\n" + body)
        return self.read_reply()

    def read_reply(self) -> Reply:
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Reply(status, headers, body)

    def at_eof(self) -> bool:
        """True once the server has closed the connection (waits up to the socket timeout)."""
        try:
            return self.buffer == b"" and self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection without an answer")
        self.buffer += chunk


FORM = ("Content-Type", "application/x-www-form-urlencoded")


def signed_post(
    connection: Connection,
    path: str,
    params: Mapping[str, str],
    *,
    token: str = AUTH_TOKEN,
    headers: Headers = (),
) -> Reply:
    """POST `params` to `path` signed as Twilio signs it, for the URL the server sees."""
    url = f"http://127.0.0.1:{connection.port}{path}"
    signature = RequestValidator(token).compute_signature(url, dict(params))
    return connection.request(
        "POST",
        path,
        [FORM, ("X-Twilio-Signature", signature), *headers],
        urlencode(params).encode(),
    )


def healthy(connection: Connection) -> bool:
    """The connection still serves a request after whatever came before on it."""
    reply = connection.request("GET", "/healthz")
    return reply.status == 200 and reply.text.startswith("ok")
