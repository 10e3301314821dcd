"""`python -m local.gemini_emulator --host 127.0.0.1 --port 8090 [--api-key K ...]`"""

from __future__ import annotations

import argparse
import logging

from local.gemini_emulator.server import EmulatorServer
from local.serving import serve_until_signalled


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.gemini_emulator", description="A Gemini API emulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--api-key", action="append", dest="api_keys",
                        help="accept only this key (repeat for several); without it any key is accepted")  # fmt: skip
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(args.log_level.upper())  # werkzeug would log every request at INFO
    server = EmulatorServer(args.host, args.port, args.api_keys)
    serve_until_signalled(server)


if __name__ == "__main__":
    main()
