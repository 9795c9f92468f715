"""The operations layer's exception types: each carries a one-line message and, where useful, a hint.

The front ends map these types to exit codes (cli/) and HTTP statuses (console/), each in one
table; nothing else from boto3 or botocore escapes the operations layer.
"""


class OperationError(Exception):
    """Base of every error the operations layer raises."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class LocalStateUnreadable(OperationError):
    """The local cloud's saved state is damaged: it was not loaded and not overwritten."""


class ConfigError(OperationError):
    """resizer.toml, an environment variable or a flag is invalid."""


class NoCredentials(OperationError):
    """No AWS credentials were found in the standard chain."""


class NoRegion(OperationError):
    """No AWS region is configured."""


class EndpointUnreachable(OperationError):
    """The AWS endpoint (or the local cloud) cannot be reached."""


class AccessDenied(OperationError):
    """The credentials are valid but not allowed to do this."""


class NotFound(OperationError):
    """A named thing (an image, an object, a function) does not exist."""


class StackNotFound(NotFound):
    """The stack does not exist (or was deleted)."""


class StackBusy(OperationError):
    """The stack is in the middle of another operation."""


class StackNeedsAttention(OperationError):
    """The stack is in a state a deploy cannot continue from (e.g. ROLLBACK_COMPLETE)."""


class TemplateInvalid(OperationError):
    """The template failed validation; ``problems`` lists what cfn-lint or the service said."""

    def __init__(self, message: str, problems: list[str] | None = None, hint: str = "") -> None:
        super().__init__(message, hint)
        self.problems = problems or []


class DeployFailed(OperationError):
    """A stack operation ended in failure; ``reason`` is the root cause, not the final status."""

    def __init__(self, message: str, resource: str = "", reason: str = "", hint: str = "") -> None:
        super().__init__(message, hint)
        self.resource = resource
        self.reason = reason


class PackagingFailed(OperationError):
    """The function's zip could not be built (pip failed, no wheel for the platform, ...)."""


class AlreadyRunning(OperationError):
    """A local cloud already answers on the requested port."""


class Cancelled(OperationError):
    """The user declined a confirmation."""


class AwsError(OperationError):
    """Any other AWS error, with its code."""

    def __init__(self, message: str, code: str = "", hint: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


THROTTLING = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)


def throttled(exc: BaseException) -> bool:
    """Whether AWS asked to slow down: a botocore ClientError, or the AwsError translated from one."""
    if isinstance(exc, AwsError):
        return exc.code in THROTTLING
    response = getattr(exc, "response", None)  # a ClientError, without importing botocore
    return isinstance(response, dict) and response.get("Error", {}).get("Code") in THROTTLING
