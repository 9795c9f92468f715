"""The parity map between the console and the CLI: which route does what `resizer` command does.

A route declares the CLI command it stands for with ``openapi_extra=cli("images put")``; GET
/api/features lists those routes, so the map cannot drift from the routes themselves. The CLI
commands the console deliberately does not offer are listed in CLI_ONLY with the reason.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

KEY = "x-cli"

CLI_ONLY = {
    "up": "starts the local cloud (and will start this console inside it): it runs before any console exists",
    "console": "starts this console",
}


def cli(command: str) -> dict[str, Any]:
    """The openapi_extra marking a route as the console's side of a CLI command."""
    return {KEY: command}


def features(app: FastAPI) -> list[dict[str, Any]]:
    found = []
    for context in iter_route_contexts(app.routes):  # through the included routers
        route = context.original_route
        if isinstance(route, APIRoute) and route.openapi_extra and KEY in route.openapi_extra:
            for method in sorted(route.methods - {"HEAD"}):
                command = route.openapi_extra[KEY]
                found.append({"cli": command, "method": method, "route": context.path, "name": route.name})
    return sorted(found, key=lambda f: (f["cli"], f["route"], f["method"]))
