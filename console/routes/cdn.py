"""The CDN (cdn delivery): its status as JSON (/api/cdn) and invalidating paths (POST /cdn/invalidate);
the Overview page shows both. In website delivery both answer 400 with the reason, as the CLI does."""

import dataclasses
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse

from console import state
from console.features import cli
from console.web import done
from operations import cdn as cdn_op
from operations import images as images_op
from operations.errors import ConfigError, OperationError

router = APIRouter()


def plain(value: Any) -> Any:
    """Dataclasses, lists and datetimes as JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def removal_json(removal: images_op.Removal) -> dict[str, Any]:
    return {
        "derived": removal.derived,
        "invalidation": plain(removal.invalidation),
        "not_invalidated": removal.not_invalidated,
    }


def removal_query(removal: images_op.Removal) -> str:
    """The part of a redirect's query that lets the next page show what followed a delete."""
    query = f"&derived={len(removal.derived)}"
    if removal.invalidation:
        query += f"&invalidation={quote(removal.invalidation.id, safe='')}"
    elif removal.not_invalidated == "invalidation skipped":
        query += "&invalidation=skipped"
    return query


def shown_invalidation(
    clients: Any, delivery: cdn_op.Delivery, invalidation_id: str
) -> dict[str, Any] | None:
    """The invalidation named in a page's query, as it is now (or as named, if it cannot be read)."""
    if not invalidation_id:
        return None
    if invalidation_id == "skipped":
        return {"skipped": True}
    if not delivery.cdn:
        return None
    try:
        found = cdn_op.invalidation(clients, delivery.distribution_id, invalidation_id)
    except OperationError as exc:
        return {"id": invalidation_id, "status": "unknown", "paths": [], "problem": exc.message}
    return {"id": found.id, "status": found.status, "paths": found.paths}


def _delivery(request: Request) -> tuple[Any, Any, cdn_op.Delivery]:
    found, clients = state.of(request).workspace.target()
    return found, clients, cdn_op.delivery(clients, found.target.stack)


@router.get("/api/cdn", name="api_cdn", openapi_extra=cli("cdn status"))
def api_cdn(request: Request, recent: int = 5) -> JSONResponse:
    found, clients, delivery = _delivery(request)
    distribution = cdn_op.require_cdn(delivery, found.target.stack)
    status = cdn_op.distribution(clients, distribution, recent=max(0, min(recent, 100)))
    return JSONResponse({"cdn_url": delivery.cdn_url, **plain(status)})


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
        {"distribution": distribution, "invalidation": plain(created)},
    )


def overview_card(clients: Any, delivery: cdn_op.Delivery, invalidation_id: str = "") -> dict[str, Any]:
    """What the Overview shows about delivery: the mode and URL, and in cdn delivery the
    distribution (or the error reading it) and the invalidation just made."""
    card: dict[str, Any] = {"delivery": delivery, "distribution": None, "error": None}
    if delivery.cdn:
        try:
            card["distribution"] = cdn_op.distribution(clients, delivery.distribution_id)
        except OperationError as exc:
            from console.errors import describe

            card["error"] = describe(exc)
        card["invalidation"] = shown_invalidation(clients, delivery, invalidation_id)
    return card
