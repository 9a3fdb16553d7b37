"""What a Twilio webhook answers: a TwiML document, an empty acknowledgement, or a short error.

Sent as the two ASGI messages a response is, without Starlette's general `Response` class:
a webhook never needs cookies, background tasks or header merging, and building that
machinery was a measurable part of every step.
"""

from __future__ import annotations

from starlette.types import Send

TWIML = b"text/xml; charset=utf-8"
TEXT = b"text/plain; charset=utf-8"


CLOSE = ((b"connection", b"close"),)


class Answer:
    """A status, a body and its type; `send` writes them as an ASGI response."""

    __slots__ = ("body", "content_type", "headers", "status")

    def __init__(
        self,
        status: int,
        body: bytes = b"",
        content_type: bytes | None = None,
        headers: tuple[tuple[bytes, bytes], ...] = (),
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers

    def closing(self) -> Answer:
        """This answer with `Connection: close`: the server ends the connection after it."""
        return Answer(self.status, self.body, self.content_type, (*self.headers, *CLOSE))

    async def send(
        self, send: Send, *, extra_headers: tuple[tuple[bytes, bytes], ...] = ()
    ) -> None:
        headers = [*self.headers, *extra_headers]
        if self.status >= 200 and self.status not in (204, 304):  # these have no body at all
            headers.append((b"content-length", str(len(self.body)).encode()))
        if self.content_type is not None:
            headers.append((b"content-type", self.content_type))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def twiml(document: str) -> Answer:
    return Answer(200, document.encode(), TWIML)


def plain(status: int, text: str) -> Answer:
    return Answer(status, text.encode(), TEXT)


def no_content() -> Answer:
    return Answer(204)
