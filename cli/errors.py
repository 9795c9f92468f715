"""The one table mapping operations' error types to exit codes, and the wrapper that applies it.

A user error prints one line (and a hint) on stderr and exits with its code; a bug prints one
line too, unless --debug asks for the traceback.
"""

import functools
import os
from collections.abc import Callable
from typing import Any

import typer

from operations import errors

# Most specific first: the first matching row wins.
EXIT_CODES: list[tuple[type[errors.OperationError], int]] = [
    (errors.Cancelled, 1),
    (errors.ConfigError, 2),
    (errors.NoCredentials, 3),
    (errors.NoRegion, 3),
    (errors.EndpointUnreachable, 4),
    (errors.AccessDenied, 5),
    (errors.StackNotFound, 6),
    (errors.NotFound, 6),
    (errors.StackBusy, 7),
    (errors.StackNeedsAttention, 7),
    (errors.TemplateInvalid, 8),
    (errors.DeployFailed, 9),
    (errors.PackagingFailed, 10),
    (errors.AwsError, 11),
    (errors.AlreadyRunning, 12),
    (errors.LocalStateUnreadable, 13),
    (errors.OperationError, 1),
]
INTERNAL_ERROR = 70  # EX_SOFTWARE
INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


def quiet_closed_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's last flush does not complain again."""
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test runner's capture)
        pass


def exit_code(error: errors.OperationError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


def debugging() -> bool:
    return os.environ.get("RESIZER_DEBUG", "") not in ("", "0")


def handles_errors(command: Callable) -> Callable:
    """Run a command; map OperationError to its exit code, anything else to 70 (no traceback)."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        from cli import render

        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except errors.OperationError as error:
            render.error(error.message, error.hint)
            raise typer.Exit(exit_code(error)) from None
        except KeyboardInterrupt:  # Ctrl-C: the user knows; end quietly with 128 + SIGINT
            raise typer.Exit(INTERRUPTED) from None
        except BrokenPipeError:  # `resizer logs | head -1`: the reader has all it wants
            quiet_closed_stdout()
            raise typer.Exit(0) from None
        except Exception as exc:
            if debugging():
                raise
            render.error(f"internal error: {type(exc).__name__}: {exc}", "run with --debug for the traceback")
            raise typer.Exit(INTERNAL_ERROR) from None

    return run
