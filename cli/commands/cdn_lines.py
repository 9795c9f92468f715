"""How the CLI shows CDN invalidations: one line per invalidation, and what followed a removal."""

from cli import render
from operations import cdn, images

SHOWN_PATHS = 3


def invalidation_line(found: cdn.Invalidation) -> str:
    paths = ", ".join(render.safe(p) for p in found.paths[:SHOWN_PATHS])
    more = f" (+{len(found.paths) - SHOWN_PATHS} more)" if len(found.paths) > SHOWN_PATHS else ""
    return f"CDN invalidation {render.safe(found.id)} {render.safe(found.status)}: {paths}{more}"


def removal_lines(removal: images.Removal) -> list[str]:
    """Nothing in website delivery; the invalidation, or a warning that it was skipped."""
    if removal.invalidation:
        return [invalidation_line(removal.invalidation)]
    if removal.not_invalidated == "invalidation skipped":
        return ["[yellow]CDN not invalidated (--no-invalidate): cached copies live until they expire[/]"]
    return []
