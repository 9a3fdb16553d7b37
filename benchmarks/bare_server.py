"""The bare endpoint `bench_voice.py` measures `ivr serve` against: constant TwiML, nothing else.

No signature check, no state, no flow: each path answers the same bytes every time. The
answers are the documents `ivr serve` gave in a reference call (a JSON file of
path -> [status, body]), so both servers send the same sizes and the emulated callers walk
the same path on both. It runs uvicorn exactly as `ivr serve` does
(`uvicorn.run(app, host=..., port=..., log_level=..., server_header=False)`, loop and HTTP
parser left to uvicorn's "auto": uvloop and httptools, installed with uvicorn[standard]).

    python benchmarks/bare_server.py --port 8001 --answers answers.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def create_app(answers: dict[str, tuple[int, str]]) -> Starlette:
    async def constant(request: Request) -> Response:
        await request.body()  # receive what Twilio sends, as any endpoint must; no parsing
        status, body = answers.get(request.url.path, (404, ""))
        return Response(body, status_code=status, media_type="text/xml" if body else None)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/{path:path}", constant, methods=["GET", "POST"]),
        ]
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--answers", type=Path, required=True, help="JSON: path -> [status, body]")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args()
    answers = {
        path: (status, body)
        for path, (status, body) in json.loads(args.answers.read_text()).items()
    }
    uvicorn.run(
        create_app(answers),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        server_header=False,
    )


if __name__ == "__main__":
    main()
