"""Response types for Twilio: TwiML documents and empty acknowledgements."""

from __future__ import annotations

from starlette.responses import Response


class TwiMLResponse(Response):
    media_type = "text/xml"


def no_content() -> Response:
    return Response(status_code=204)
