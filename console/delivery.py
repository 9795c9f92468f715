"""What pages show about image delivery: the Overview's CDN card, an invalidation named in a
page's query (as it is now), and the redirect query that carries a delete's outcome to it."""

from typing import Any

from console.errors import describe
from operations import cdn as cdn_op
from operations import images as images_op
from operations.errors import OperationError


def removal_query(removal: images_op.Removal) -> str:
    """The part of a redirect's query that lets the next page show what followed a delete."""
    from urllib.parse import quote

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


def overview_card(clients: Any, delivery: cdn_op.Delivery, invalidation_id: str = "") -> dict[str, Any]:
    """What the Overview shows about delivery: the mode and URL, and in cdn delivery the
    distribution (or the error reading it) and the invalidation just made."""
    card: dict[str, Any] = {"delivery": delivery, "distribution": None, "error": None}
    if delivery.cdn:
        try:
            card["distribution"] = cdn_op.distribution(clients, delivery.distribution_id)
        except OperationError as exc:
            card["error"] = describe(exc)
        card["invalidation"] = shown_invalidation(clients, delivery, invalidation_id)
    return card
