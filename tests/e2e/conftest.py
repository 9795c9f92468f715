"""The end-to-end tests' ``target``: a throwaway stack on the local cloud or on AWS (see target.py).

``make test`` runs tests/e2e against a local-cloud server process (one per session, temporary data
and package cache). ``make test-aws`` (RESIZER_TEST_TARGET=aws) runs the same tests against the
account of the usual credential chain; without credentials it stops at collection with one line.
Every module gets its own stack (a unique name), deployed with ``resizer deploy`` before its first
test and always removed after its last, with its retained images bucket.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from operations.aws import Clients, Target
from tests.conftest import no_aws_env
from tests.e2e import target as targets

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On AWS without working credentials: one line, and nothing runs. Only a run of tests/e2e alone
    (make test-aws) is skipped so; a wider run (make test with RESIZER_TEST_TARGET=aws exported)
    stops with a usage error instead of passing silently. The local cloud never skips."""
    if targets.chosen() != "aws" or not any(HERE in Path(str(i.path)).parents for i in items):
        return
    reason = targets.no_aws_credentials()
    if not reason:
        return
    if all(HERE in Path(str(i.path)).parents for i in items):
        pytest.exit(f"make test-aws: skipped: {reason}", returncode=0)
    raise pytest.UsageError(f"RESIZER_TEST_TARGET=aws but {reason}; unset it to run against the local cloud")


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """The local cloud's endpoint (a server process for the session), or None on AWS."""
    if targets.chosen() == "aws":
        yield None
        return
    from localcloud.process import running

    folder = tmp_path_factory.mktemp("e2e-localcloud")
    with running(folder / "data", log=folder / "server.log") as url:
        yield url


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-cache")


def environment(name: str, cache: Path) -> dict[str, str]:
    """The ``resizer`` processes' environment: a user's with no AWS settings (local), or this one (AWS)."""
    if name == "aws":
        return {**os.environ, "COLUMNS": "200"}
    return no_aws_env(cache) | {"COLUMNS": "200"}


@pytest.fixture(scope="module")
def target(
    endpoint: str | None, cache_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[targets.Cloud]:
    """A deployed throwaway stack on the chosen target; destroyed afterwards whatever happened."""
    name = targets.chosen()
    stack = targets.unique_stack()
    if endpoint:
        where = Target(stack=stack, region="us-east-1", endpoint_url=endpoint)
        clients = Clients.for_local_cloud(endpoint)
    else:
        where = targets.aws_target(stack)
        clients = Clients.for_target(where)
    default_delivery = "website" if name == "aws" else "cdn"
    cloud = targets.Cloud(
        name=name,
        target=where,
        clients=clients,
        cwd=tmp_path_factory.mktemp("e2e-cwd"),
        env=environment(name, cache_dir),
        delivery=os.environ.get("RESIZER_TEST_DELIVERY", default_delivery),
        patience=900.0 if name == "aws" else 30.0,
    )
    try:
        cloud.deploy()
        yield cloud
    finally:  # also after a failed deploy; a failure here is an error of the run, naming the stack
        try:
            removed = cloud.teardown()
        except Exception as exc:
            raise AssertionError(
                f"could not remove the throwaway stack {stack} on {name}: {exc}; "
                f"remove it with: resizer destroy --stack {stack} --delete-images"
            ) from exc
        if removed:
            print(f"\ne2e teardown of {stack} on {name}: removed {', '.join(removed)}")
