"""Where operations run: the Target (stack, region, profile, endpoint) and the Clients factory.

``Clients`` wraps one boto3 Session and creates each service client once, on first use, with
the target's endpoint; creation is behind a lock (a boto3 Session is not thread-safe, and the
console's pages, streams and background runs share one Clients). ``translated`` turns botocore's
exceptions into ``operations.errors``.
"""

import functools
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from localcloud import contract
from operations import errors

DEFAULT_STACK = "resizer"
LOCAL_REGION = "us-east-1"
LOCAL_CREDENTIALS = {"aws_access_key_id": "localcloud", "aws_secret_access_key": "localcloud"}


def local_endpoint() -> str:
    """The embedded local cloud's endpoint (RESIZER_LOCAL_PORT, default 4566)."""
    import os

    return contract.endpoint(os.environ.get(contract.PORT_ENV, str(contract.DEFAULT_PORT)))


@dataclass(frozen=True)
class Target:
    """The AWS account/region/endpoint and stack an operation acts on."""

    stack: str = DEFAULT_STACK
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def but(self, **changes: Any) -> "Target":
        return replace(self, **changes)


class Clients:
    """A client factory over one boto3 Session; clients are created lazily and cached."""

    def __init__(
        self, session: Any, endpoint_url: str | None = None, *, defaulted_to_local: bool = False
    ) -> None:
        self.session = session
        self.endpoint_url = endpoint_url
        self.defaulted_to_local = defaulted_to_local
        self._cache: dict[tuple[str, bool], Any] = {}
        self._lock = threading.RLock()  # creating clients from one Session is not thread-safe
        self._local: bool | None = None
        self._account: str | None = None
        self._checked_region: str | None = None

    @classmethod
    def for_target(cls, target: Target) -> "Clients":
        import boto3
        from botocore.exceptions import ProfileNotFound

        try:
            session = boto3.Session(profile_name=target.profile, region_name=target.region)
        except ProfileNotFound as exc:
            raise errors.ConfigError(
                str(exc), hint="list profiles with: aws configure list-profiles"
            ) from None
        if target.profile or session.get_credentials() is not None:
            return cls(session, target.endpoint_url)
        # No credentials anywhere in the chain: an endpoint of the user's choosing (moto, the
        # local cloud) takes dummy ones; with no endpoint either, the local cloud is the target.
        region = target.region or session.region_name or LOCAL_REGION
        return cls(
            boto3.Session(region_name=region, **LOCAL_CREDENTIALS),
            target.endpoint_url or local_endpoint(),
            defaulted_to_local=not target.endpoint_url,
        )

    @classmethod
    def for_local_cloud(cls, endpoint_url: str, region: str = LOCAL_REGION) -> "Clients":
        import boto3

        return cls(boto3.Session(region_name=region, **LOCAL_CREDENTIALS), endpoint_url)

    @property
    def region(self) -> str:
        region = self.session.region_name
        if not region:
            raise errors.NoRegion(
                "no AWS region is configured",
                hint="pass --region, set AWS_REGION, or set region in resizer.toml",
            )
        if region != self._checked_region:
            from operations import regions

            regions.check(region, endpoint_url=self.endpoint_url)
            self._checked_region = region
        return region

    def client(self, service: str, *, retries: bool = True) -> Any:
        """The service's client; retries=False for calls that must never run twice (invoke)."""
        key = (service, retries)
        found = self._cache.get(key)
        if found is not None:
            return found
        with self._lock:
            return self._create(key)

    def _create(self, key: tuple[str, bool]) -> Any:
        service, retries = key
        if key not in self._cache:
            from botocore.config import Config

            attempts = {"mode": "standard"} if retries else {"total_max_attempts": 1}
            config = Config(retries=attempts, read_timeout=70 if service == "lambda" else 60)
            with aws_errors():
                try:
                    self._cache[key] = self.session.client(
                        service, region_name=self.region, endpoint_url=self.endpoint_url, config=config
                    )
                except ValueError as exc:  # botocore's word for a malformed endpoint URL
                    raise errors.ConfigError(f"invalid endpoint URL {self.endpoint_url!r}: {exc}") from None
        return self._cache[key]

    def is_local_cloud(self) -> bool:
        """Whether the endpoint is the embedded local cloud (which runs functions with this Python)."""
        if self._local is None:
            self._local = bool(self.endpoint_url) and probe_local_cloud(self.endpoint_url or "")
        return self._local

    def account_id(self) -> str:
        if self._account is None:  # one STS call per Clients: the account behind a session is fixed
            with aws_errors():
                self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account


def probe_local_cloud(endpoint_url: str, timeout: float = 1.0) -> bool:
    """Ask the endpoint whether it is the resizer local cloud (its health path says so)."""
    return bool(contract.health(endpoint_url, timeout=timeout))


def local_cloud_saving_problem(endpoint_url: str, timeout: float = 1.0) -> str:
    """Why the local cloud at endpoint_url cannot save its state ('' when it can, or is not one)."""
    state = contract.health(endpoint_url, timeout=timeout).get("state")
    if isinstance(state, dict) and state.get("saving") == "failing":
        return f"{state.get('error', 'unknown error')} (since {state.get('since', '?')})"
    return ""


_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
_BAD_CREDENTIALS = {"InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken", "ExpiredTokenException"}


@contextmanager
def aws_errors() -> Iterator[None]:
    """Translate botocore's exceptions raised in the block into operations.errors types."""
    from botocore import exceptions as bx

    try:
        yield
    except errors.OperationError:
        raise
    except bx.NoCredentialsError:
        raise errors.NoCredentials(
            "no AWS credentials found",
            hint="run 'aws configure', pass --profile, or run 'resizer up' for the local cloud",
        ) from None
    except bx.NoRegionError:
        raise errors.NoRegion("no AWS region is configured", hint="pass --region or set AWS_REGION") from None
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError) as exc:
        raise errors.EndpointUnreachable(
            f"cannot reach {getattr(exc, 'kwargs', {}).get('endpoint_url', 'the AWS endpoint')}",
            hint="check the network, --endpoint-url, or start the local cloud with 'resizer up'",
        ) from None
    except bx.ClientError as exc:
        raise from_client_error(exc) from None
    except bx.BotoCoreError as exc:
        raise errors.AwsError(str(exc)) from None


def from_client_error(exc: Any) -> errors.OperationError:
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message") or str(exc)
    operation = getattr(exc, "operation_name", "")
    if code in _DENIED:
        return errors.AccessDenied(f"access denied to {operation}: {message}", hint="check the IAM policy")
    if code in _BAD_CREDENTIALS:
        return errors.NoCredentials(f"the AWS credentials were refused: {message}", hint="refresh them")
    return errors.AwsError(f"{operation} failed: {code}: {message}", code=code)


def translated(fn: Callable) -> Callable:
    """Decorate an operation (function or generator) so that botocore errors are translated."""
    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def generator(*args: Any, **kwargs: Any) -> Iterator[Any]:
            with aws_errors():
                yield from fn(*args, **kwargs)

        return generator

    @functools.wraps(fn)
    def function(*args: Any, **kwargs: Any) -> Any:
        with aws_errors():
            return fn(*args, **kwargs)

    return function
