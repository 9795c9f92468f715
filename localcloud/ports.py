"""URLs follow the port the local cloud runs on, whatever port stored them.

The stack's outputs and the function's ``PUBLIC_URL`` hold loopback URLs with the port of the run
that deployed them. ``follow`` rewrites the functions' stored environment to this run's base URL
at start-up (the outputs are rewritten as they are read, by cloudformation.LocalUrls), so a
restart on another port redirects to the port that answers.
"""

from typing import Any

from localcloud.cloudformation import LocalUrls


def follow(base_url: str) -> int:
    """Rewrite every stored Lambda environment value that is a local URL; the number changed."""
    from moto.awslambda.models import lambda_backends

    urls, changed = LocalUrls(base_url), 0
    for regions in list(lambda_backends.values()):
        for backend in list(regions.values()):
            for fn in _functions(backend):
                variables = getattr(fn, "environment_vars", None) or {}
                for name, value in list(variables.items()):
                    if isinstance(value, str) and (moved := urls.rewrite(value)) != value:
                        variables[name] = moved
                        changed += 1
    return changed


def _functions(backend: Any) -> list[Any]:
    stored = getattr(getattr(backend, "_lambdas", None), "_functions", {}) or {}
    found = []
    for entry in stored.values():
        found += [entry.get("latest"), *entry.get("versions", [])]
    return [fn for fn in found if fn is not None]
