"""Thumbnails for the Images page, made in the console process with Pillow: no object is stored and
no function is invoked (a thumbnail must not cost a Lambda run or clutter the bucket, and must work
whatever AllowedSizes says). Each is made once per (bucket, key, ETag) and kept in a small LRU.

Only what the function itself would decode is decoded: operations.previews makes them.
"""

import threading
from collections import OrderedDict

from operations import images
from operations.previews import MAX_PIXELS, SIDE, NoPreview, render

__all__ = ["MAX_PIXELS", "SIDE", "NoPreview", "cached", "remember", "render", "source_of"]
KEPT = 512  # thumbnails are a few KB each
SMALL_ENOUGH = 5_000_000  # originals up to this many bytes are their own thumbnail's source


_cache: "OrderedDict[tuple[str, str, str], bytes]" = OrderedDict()
_lock = threading.Lock()


def cached(bucket: str, key: str, etag: str) -> bytes | None:
    with _lock:
        found = _cache.get((bucket, key, etag))
        if found is not None:
            _cache.move_to_end((bucket, key, etag))
        return found


def remember(bucket: str, key: str, etag: str, thumbnail: bytes) -> None:
    with _lock:
        _cache[(bucket, key, etag)] = thumbnail
        _cache.move_to_end((bucket, key, etag))
        while len(_cache) > KEPT:
            _cache.popitem(last=False)


def source_of(group: images.Group) -> images.ImageObject:
    """The object an original's thumbnail is made from: the original when it is small enough,
    else its smallest derived object (a few KB to download instead of megabytes), else the original."""
    if group.original.size <= SMALL_ENOUGH or not group.derived:
        return group.original
    return min(group.derived, key=lambda d: d.size)
