"""Every public function behind one port, dispatched by the routing table.

Run by the local stack as `python -m local.gateway --port 8080`: an ASGI gateway under gunicorn with uvicorn's
worker (functions-framework's own UvicornApplication). Each function keeps its own functions-framework app, exactly
as in its own container: the async ones (the live dashboard's stream) are served natively, so an open stream holds a
socket and no thread; the WSGI ones run in a thread pool through a2wsgi, as gunicorn's threads ran them before.

`build_gateway()` is the same table as one WSGI app, for in-process test clients (werkzeug, schemathesis); there an
async function runs through a2wsgi the other way round, which holds a thread for as long as it answers.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable

import functions_framework
from a2wsgi import ASGIMiddleware, WSGIMiddleware
from flask import Flask
from functions_framework._http.gunicorn import UvicornApplication

from shared.http import problem_response
from shared.migrate import PROJECT_ROOT
from shared.routing import FUNCTIONS, owner_of

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]
ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


def function_apps() -> dict[str, object]:
    """Each function's functions-framework app: a Flask (WSGI) app, or a Starlette (ASGI) one for an async function."""
    return {
        function.name: functions_framework.create_app(function.name, str(PROJECT_ROOT / function.source))
        for function in FUNCTIONS
        if function.prefixes
    }


def _not_found(environ: dict, start_response: Callable) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "")
    response = problem_response(404, "Not Found", f"No route for {path}; the API lives under /api/v1", "not-found",
                                instance=path)  # fmt: skip
    return response(environ, start_response)


def _wsgi_dispatch(apps: dict[str, WSGIApp]) -> WSGIApp:
    def gateway(environ: dict, start_response: Callable) -> Iterable[bytes]:
        function = owner_of(environ.get("PATH_INFO", ""))
        return (apps[function.name] if function else _not_found)(environ, start_response)

    return gateway


def build_gateway() -> WSGIApp:
    """The whole table as one WSGI app (async functions bridged to WSGI)."""
    apps = function_apps()
    return _wsgi_dispatch({name: app if isinstance(app, Flask) else ASGIMiddleware(app) for name, app in apps.items()})


def build_asgi_gateway(threads: int = 8) -> ASGIApp:
    """The whole table as one ASGI app: async functions natively, the others in a pool of `threads` threads."""
    apps = function_apps()
    native = {name: app for name, app in apps.items() if not isinstance(app, Flask)}
    bridged = WSGIMiddleware(_wsgi_dispatch({name: app for name, app in apps.items() if isinstance(app, Flask)}),
                             workers=threads)  # fmt: skip

    async def gateway(scope: dict, receive: Callable, send: Callable) -> None:
        function = owner_of(scope.get("path", "")) if scope["type"] == "http" else None
        if function is not None and function.name in native:
            await native[function.name](scope, receive, send)
        else:  # every WSGI function, unknown paths, and the lifespan messages (a2wsgi answers those)
            await bridged(scope, receive, send)

    return gateway


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="per worker, for the WSGI functions")
    args = parser.parse_args()
    UvicornApplication(
        build_asgi_gateway(args.threads), args.host, args.port, False, workers=args.workers, loglevel="warning",
        graceful_timeout=5,
    ).run()  # fmt: skip


if __name__ == "__main__":
    main()
