"""Parity: every `resizer` command has a console feature in /api/features and vice versa, except
the documented CLI-only ones."""

from cli.app import COMMANDS, load
from console.features import CLI_ONLY
from tests.console.conftest import Browser


def cli_commands() -> set[str]:
    names = set()
    for entry in COMMANDS:
        subcommands = getattr(load(entry), "commands", {})  # a group: its commands, not itself
        names |= {f"{entry.name} {sub}" for sub in subcommands} if subcommands else {entry.name}
    return names


def test_every_cli_command_has_a_console_feature_and_vice_versa(browser: Browser) -> None:
    data = browser.client.get("/api/features").json()
    console = {feature["cli"] for feature in data["features"]}
    cli = cli_commands()
    assert {"deploy", "status", "images put", "console", "up", "version"} <= cli
    assert set(data["cli_only"]) == set(CLI_ONLY) == {"up", "console"}
    assert cli - set(CLI_ONLY) == console
    assert not console & set(CLI_ONLY)


def test_every_feature_route_is_a_real_route(browser: Browser, app) -> None:
    from fastapi.routing import iter_route_contexts

    routes = {
        (m, c.path) for c in iter_route_contexts(app.routes) for m in getattr(c.original_route, "methods", ())
    }
    for feature in browser.client.get("/api/features").json()["features"]:
        assert (feature["method"], feature["route"]) in routes
