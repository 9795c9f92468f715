"""The CDN (cdn delivery): its status as JSON (/api/cdn) and invalidating paths (POST /cdn/invalidate);
the Overview page shows both. In website delivery both answer 400 with the reason, as the CLI does."""

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from console import state
from console.features import cli
from console.web import done
from operations import cdn as cdn_op
from operations import jsonable
from operations.errors import ConfigError

router = APIRouter()


def _delivery(request: Request) -> tuple[Any, Any, cdn_op.Delivery]:
    found, clients = state.of(request).workspace.target()
    return found, clients, cdn_op.delivery(clients, found.target.stack)


@router.get("/api/cdn", name="api_cdn", openapi_extra=cli("cdn status"))
def api_cdn(request: Request, recent: int = 5) -> JSONResponse:
    found, clients, delivery = _delivery(request)
    distribution = cdn_op.require_cdn(delivery, found.target.stack)
    status = cdn_op.distribution(clients, distribution, recent=max(0, min(recent, 100)))
    return JSONResponse(jsonable.cdn_status(delivery, status))


@router.post("/cdn/invalidate", name="cdn_invalidate", openapi_extra=cli("cdn invalidate"))
def invalidate(request: Request, paths: str = Form(...)) -> Any:
    """Invalidate the paths given one per line (a path may contain spaces)."""
    given = [p.strip() for p in paths.splitlines() if p.strip()]
    if not given:
        raise ConfigError("no paths given", hint="e.g. /300x200/cat.jpg or /300x200/*")
    encoded = [cdn_op.user_path(p) for p in given]
    found, clients, delivery = _delivery(request)
    distribution = cdn_op.require_cdn(delivery, found.target.stack)
    created = cdn_op.invalidate(clients, distribution, encoded)
    return done(
        request,
        f"/?invalidation={quote(created.id, safe='')}#cdn",
        jsonable.invalidated(distribution, created),
    )
