"""`python -m console`: run the web console (what `resizer console` and `resizer up` start).

The console is its own process, so cli/ never imports console/ (nor FastAPI): the CLI passes its
options on the command line and the login token in RESIZER_CONSOLE_TOKEN. The token is printed
once, here, unless it came from the environment; the console never logs or shows it.
"""

import argparse
import contextlib
import ipaddress
import os
import sys

from operations.console_process import TOKEN_ENV


def loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="resizer console", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--allow-remote", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="do not print the URL and the token")
    parser.add_argument(
        "--new-token", action="store_true", help="replace the stored token (ends every session)"
    )
    for name in ("--stack", "--region", "--profile", "--endpoint-url"):
        parser.add_argument(name)
    args = parser.parse_args(argv)
    if not loopback(args.host) and not (args.allow_remote and os.environ.get(TOKEN_ENV)):
        print(
            f"error: refusing to listen on {args.host}: the console listens on loopback by default\n"
            f"hint: pass --allow-remote and set {TOKEN_ENV} (and put TLS in front of it)",
            file=sys.stderr,
        )
        return 2
    if not 0 < args.port < 65536:
        print(f"error: --port {args.port} is not a TCP port", file=sys.stderr)
        return 2

    from console.app import ConsoleSettings, serve
    from operations import console_token
    from operations.errors import OperationError

    stored = {}
    if not os.environ.get(TOKEN_ENV):  # the token kept in .resizer/console/ (0600) across restarts
        login = console_token.load(console_token.DEFAULT_DIR, rotate=args.new_token)
        stored = {"token": login.token, "secret": login.secret, "login_dir": console_token.DEFAULT_DIR}
    settings = ConsoleSettings(
        host=args.host,
        port=args.port,
        stack=args.stack,
        region=args.region,
        profile=args.profile,
        endpoint_url=args.endpoint_url,
        **stored,
    )
    if not args.quiet:
        print(f"Console: open {settings.url}/ and log in with the token:")
        print(f"  (the value of {TOKEN_ENV})" if os.environ.get(TOKEN_ENV) else f"  {settings.token}")
        if not loopback(args.host):
            print("Listening beyond loopback over plain HTTP: put a TLS proxy in front of it.")
        print("Ctrl-C stops the console.", flush=True)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            serve(settings)
    except OperationError as error:
        print(f"error: {error.message}" + (f"\nhint: {error.hint}" if error.hint else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
