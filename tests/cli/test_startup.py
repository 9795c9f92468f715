"""Start-up: `cli.app` imports no command module, boto3 nor rich; its list of commands is theirs."""

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import cli.app
from cli.app import COMMANDS, app, load

HEAVY = ("boto3", "botocore", "rich", "PIL", "operations", "cli.commands")
HELPERS = {
    "__init__",
    "cdn_lines",
    "log_lines",
    "stack_events",
}  # modules of cli/commands/ that are no command


def imported(*argv: str) -> set[str]:
    """The modules a fresh interpreter holds after `import cli.app` (and `resizer ARGV...` if given)."""
    run = "from cli.app import main\ntry:\n    main()\nexcept SystemExit:\n    pass\n" if argv else ""
    code = f"import sys, json\nsys.argv = ['resizer', *{list(argv)!r}]\nimport cli.app\n{run}"
    code += "print(json.dumps(sorted(sys.modules)), file=sys.stderr)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    return set(json.loads(done.stderr.splitlines()[-1]))


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY)}


def test_importing_cli_app_imports_neither_boto3_nor_rich_nor_a_command() -> None:
    found = imported()
    assert "cli.app" in found, "the probe saw the import"
    assert heavy(found) == set()


def test_resizer_help_imports_no_command_module_and_no_boto3() -> None:
    found = imported("--help")
    assert "rich.console" in found, "the help is rendered by rich, as before"
    assert {m for m in heavy(found) if not m.startswith("rich")} == set()


def test_a_command_is_loaded_when_it_runs() -> None:
    found = imported("status", "--help")
    assert "cli.commands.status" in found and "cli.commands.deploy" not in found


@pytest.mark.parametrize("entry", COMMANDS, ids=lambda e: e.name)
def test_the_listed_command_is_the_real_one(entry: cli.app.Entry) -> None:
    real = load(entry)
    assert real.name == entry.name
    assert getattr(real, "rich_help_panel", None) == entry.panel
    assert inspect.cleandoc(real.help or "").split("\n\n")[0] == entry.summary


def test_every_command_module_is_listed() -> None:
    modules = {p.stem for p in Path(cli.app.__file__).with_name("commands").glob("*.py")}
    listed = {e.target.split(":")[0].removeprefix("cli.commands.") for e in COMMANDS} - {"cli.app"}
    assert listed == modules - HELPERS
    assert len({e.name for e in COMMANDS}) == len(COMMANDS)


def eager() -> typer.Typer:
    """The application as it was: every command registered, every module imported."""
    registered = typer.Typer(
        help=app.info.help,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    registered.callback()(cli.app.root)
    for entry in COMMANDS:
        module, attribute = entry.target.split(":")
        found = getattr(__import__(module, fromlist=[attribute]), attribute)
        if isinstance(found, typer.Typer):
            registered.add_typer(found, name=entry.name, rich_help_panel=entry.panel)
        else:
            registered.command(entry.name, rich_help_panel=entry.panel)(found)
    return registered


@pytest.mark.parametrize(
    "argv", [["--help"], [], ["stauts"], ["images", "--help"], ["up", "--help"], ["version"]], ids=" ".join
)
def test_the_lazy_application_answers_as_the_eager_one(argv: list[str]) -> None:
    env = {"COLUMNS": "120"}
    lazy, registered = CliRunner().invoke(app, argv, env=env), CliRunner().invoke(eager(), argv, env=env)
    assert (lazy.exit_code, lazy.output) == (registered.exit_code, registered.output)
    assert lazy.output.strip()
