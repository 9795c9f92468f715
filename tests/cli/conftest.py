"""CLI tests run the real Typer app against moto's in-process AWS, in a clean working directory.

``aws`` (a fresh moto per test) and ``fake_build`` (here with ``fast_lint``) are the root
tests/conftest.py's. ``shared_moto`` is one moto world for a whole module, with the local cloud's
CloudFormation, so a module deploys its stack once; ``shared_aws`` runs a test in it from its own
working directory. Such tests stay independent: each starts from an empty bucket or uses its own
keys, stacks and function names, and a module that shares a world never uses ``aws``.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import dummy_aws_env, patched_moto


@pytest.fixture(scope="module")
def shared_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Dummy credentials and one moto (with the local cloud's CloudFormation) for the module."""
    from localcloud import cloudformation

    folder = tmp_path_factory.mktemp("cli-module")
    with pytest.MonkeyPatch.context() as patch:
        dummy_aws_env(patch, folder)
        with patched_moto(cloudformation, quiet=True):
            yield folder


@pytest.fixture
def shared_aws(shared_moto: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The module's moto world, run from the test's own clean working directory."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake_build(fake_build, fast_lint):
    """The root fake_build; the CLI tests that deploy also lint the template once a session only."""
    return fake_build


@pytest.fixture
def runner():
    return CliRunner()
