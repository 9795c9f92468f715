"""CLI tests run the real Typer app against moto's in-process AWS, in a clean working directory.

``aws`` (a fresh moto per test) and ``fake_build`` are the root tests/conftest.py's. ``shared_aws``
is one moto world for a whole module, with the local cloud's CloudFormation, so a module deploys
its stack once: its tests stay independent by using their own keys, stacks and function names.
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
def runner():
    return CliRunner()
