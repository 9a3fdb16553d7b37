"""A company's order API for `bench_voice.py`'s http path: JSON over keep-alive HTTP/1.1.

`GET /orders/<number>` answers `{"order": {"id": ..., "status": "shipped"}}`; it runs uvicorn
as the other benchmark servers do, so the http node's request costs what it would against a
real, fast API on the same network.

    python benchmarks/api_server.py --port 8002
"""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


async def order(request: Request) -> Response:
    number = request.path_params["number"]
    return JSONResponse({"order": {"id": number, "status": "shipped", "total": 42.5}})


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


app = Starlette(
    routes=[Route("/healthz", healthz), Route("/orders/{number}", order)],
)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8002)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", server_header=False)


if __name__ == "__main__":
    main()
