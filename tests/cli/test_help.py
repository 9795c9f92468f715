"""`--help` of every command: flags show no type, and no help text loses words to rich markup."""

import re

import pytest
import typer.main
from typer.testing import CliRunner

from cli.app import app


def commands() -> list[list[str]]:
    root = typer.main.get_command(app)
    ctx = root.make_context("resizer", ["version"], resilient_parsing=True)
    found = [[]]
    for name in root.list_commands(ctx):  # type: ignore[attr-defined]
        command = root.resolve_command(ctx, [name])[1]  # type: ignore[attr-defined] - loaded, not listed
        found.append([name])
        found += [[name, sub] for sub in getattr(command, "commands", {})]
    return found


@pytest.mark.parametrize("path", commands(), ids=lambda p: " ".join(p) or "resizer")
def test_help_has_no_bool_metavars_and_no_eaten_words(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert not re.search(r"\w \.(\s|$)", result.output), "a word before ' .' was read as markup"
    for line in result.output.splitlines():
        assert "--help" not in line or "<" not in line, line


def test_options_that_take_a_value_keep_their_type() -> None:
    result = CliRunner().invoke(app, ["logs", "--help"], env={"COLUMNS": "200"})
    assert "<str>" in result.output and "<text|json>" in result.output
    follow = next(line for line in result.output.splitlines() if line.startswith("│ --follow"))
    assert "<" not in follow
