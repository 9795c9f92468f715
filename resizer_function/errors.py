"""The one exception type the function raises for a request it refuses: an HTTP status and a code."""

# The error codes the function answers with a 5xx: what `resizer metrics` counts as server errors.
SERVER_ERROR_CODES = frozenset({"internal_error", "store_conflict"})


class RequestRefused(Exception):
    """A client-facing refusal, rendered as ``{"error": code, "message": ...}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, **extra: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra
