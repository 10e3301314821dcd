"""Every public function behind one port, dispatched by the routing table, served by functions-framework's gunicorn.

Run by the local stack as `python -m local.gateway --port 8080`; each function keeps its own
functions-framework app, exactly as in its own container.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable

import functions_framework
from functions_framework._http.gunicorn import GunicornApplication

from shared.http import problem_response
from shared.migrate import PROJECT_ROOT
from shared.routing import FUNCTIONS, owner_of

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


def build_gateway() -> WSGIApp:
    apps = {
        function.name: functions_framework.create_app(function.name, str(PROJECT_ROOT / function.source))
        for function in FUNCTIONS
        if function.prefixes
    }

    def gateway(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        function = owner_of(path)
        if function is None:
            response = problem_response(404, "Not Found", f"No route for {path}; the API lives under /api/v1",
                                        "not-found", instance=path)  # fmt: skip
            return response(environ, start_response)
        return apps[function.name](environ, start_response)

    return gateway


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    GunicornApplication(
        build_gateway(), args.host, args.port, False, workers=args.workers, threads=args.threads,
        loglevel="warning", graceful_timeout=5,
    ).run()  # fmt: skip


if __name__ == "__main__":
    main()
