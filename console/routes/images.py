"""Images (/images): originals with their derived sizes grouped under them, newest first, a page at a
time; upload (checked here and in operations.images), "try a size", purge a size or the stale
derived images, delete an object, download one.

Thumbnails are made in the console process (console/thumbnails.py): loading the page stores no
object and invokes nothing. Links and "try a size" use where the stack serves images: the CDN URL
in cdn delivery, the website URL otherwise. Derived objects are shown through /images/object,
which streams the object itself and serves only image types (anything else is a download, never
rendered on the console's origin). After a delete, purge or replacing upload the page shows how
many derived images went and the CDN invalidation, with its current status.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from console import state, thumbnails
from console.delivery import removal_query, shown_invalidation
from console.features import cli
from console.web import done, page
from operations import images as images_op
from operations import jsonable
from operations.errors import ConfigError, OperationError, StackNotFound

router = APIRouter()
PAGE_SIZE = 50
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"}


def _flash(request: Request) -> str:
    query = request.query_params
    derived = query.get("derived", "0")
    followed = f" and {derived} derived image(s)" if derived not in ("", "0") else ""
    if "uploaded" in query:
        if "replaced" in query:
            return f"Uploaded {query['uploaded']}: replaced it and removed {derived} derived image(s)."
        return f"Uploaded {query['uploaded']}."
    if "deleted" in query:
        return f"Deleted {query['deleted']}{followed}."
    if "purged" in query:
        return f"Purged {query.get('count', '0')} object(s) of size {query['purged']}."
    if "purged_stale" in query:
        return f"Purged {query.get('count', '0')} stale derived image(s)."
    return ""


def _thumb(item: images_op.ImageObject) -> str:
    return f"/images/thumb?key={quote(item.key, safe='')}&etag={quote(item.etag, safe='')}"


@router.get("/images", response_class=HTMLResponse, name="images_page", openapi_extra=cli("images ls"))
def images_page(
    request: Request,
    prefix: str = "",
    after: str = "",
    stale: bool = False,
    try_spec: str = "",
    try_key: str = "",
    invalidation: str = "",
) -> HTMLResponse:
    console = state.of(request)
    try:
        clients, bucket, delivery = console.workspace.location()
    except StackNotFound:
        stack = console.workspace.settings().target.stack
        return page(request, "images.html", title="Images", missing=True, stack=stack)
    listed = images_op.browse(clients, bucket, prefix=prefix, after=after, page_size=PAGE_SIZE)
    groups = []
    for group in listed.groups:
        groups.append(
            {
                "original": group.original,
                "thumb": _thumb(thumbnails.source_of(group)),
                "url": delivery.url(group.original.key),
                "derived": [
                    {"item": d, "url": delivery.url(d.key), "preview": _thumb(d)} for d in group.derived
                ],
            }
        )
    originals = [g["original"].key for g in groups]
    tried = None
    if try_spec.strip():
        key = try_key or (originals[0] if originals else "")
        url, problem = images_op.resized_url(delivery, try_spec, key)
        tried = {"spec": try_spec.strip(), "key": key, "url": url, "problem": problem}
    return page(
        request,
        "images.html",
        title="Images",
        missing=False,
        bucket=bucket,
        delivery=delivery,
        groups=groups,
        next_page=listed.next,
        after=after,
        prefix=prefix,
        sizes=images_op.sizes(clients, bucket),
        stale=images_op.stale(clients, bucket) if stale else None,
        originals=originals,
        tried=tried,
        flash=_flash(request),
        invalidation=shown_invalidation(clients, delivery, invalidation),
        max_bytes=console.settings.max_upload_bytes,
        accept=",".join(images_op.accepted_types()),
        accepted=images_op.accepted_described(),
    )


@router.get("/api/images", name="api_images", openapi_extra=cli("images ls"))
def api_images(request: Request, prefix: str = "", kind: str = "all", stale: bool = False) -> JSONResponse:
    console = state.of(request)
    _, clients = console.workspace.target()
    bucket = console.workspace.bucket()
    if stale:
        return JSONResponse(jsonable.stale_listing(bucket, images_op.stale(clients, bucket, prefix=prefix)))
    found = list(images_op.listing(clients, bucket, prefix=prefix, kind=kind))
    return JSONResponse(jsonable.image_listing(bucket, found))


@router.post("/images/upload", name="images_upload", openapi_extra=cli("images put"))
def upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    key: Annotated[str, Form()] = "",
    overwrite: Annotated[bool, Form()] = False,
    no_invalidate: Annotated[bool, Form()] = False,
) -> Any:
    console = state.of(request)
    limit = console.settings.max_upload_bytes
    name = (key.strip() or (file.filename or "").rsplit("/", 1)[-1]).lstrip("/")
    body = file.file.read(limit + 1)
    images_op.check_upload(name, body, limit)  # this console's limit, before the operation's own check
    clients, bucket, delivery = console.workspace.location()
    try:
        stored = images_op.put(
            clients, bucket, name, body, overwrite=overwrite, delivery=delivery, invalidate=not no_invalidate
        )
    except OperationError as exc:
        if type(exc) is OperationError and "already exists" in exc.message:
            raise HTTPException(
                409, f"{name!r} already exists: tick 'Replace an existing original'"
            ) from None
        raise
    url = f"/images?uploaded={quote(stored.key, safe='')}"
    if stored.replaced:
        url += "&replaced=1" + removal_query(stored.removal)
    return done(request, url, jsonable.uploaded(bucket, stored) | ({"next": url} if stored.replaced else {}))


@router.get("/images/object", name="images_object", openapi_extra=cli("images get"))
def get_object(request: Request, key: str, download: bool = False) -> Response:
    console = state.of(request)
    _, clients = console.workspace.target()
    found = images_op.get(clients, console.workspace.bucket(), key)
    content_type = found.content_type.split(";")[0].strip().lower()
    inline = content_type in IMAGE_TYPES and not download
    filename = quote(key.rsplit("/", 1)[-1])
    headers = {
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{filename}",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=60",
    }
    return Response(
        found.body, media_type=content_type if inline else "application/octet-stream", headers=headers
    )


@router.get("/images/thumb", name="images_thumb")
def thumb(request: Request, key: str, etag: str = "") -> Response:
    """A small WebP of an object, made here (no object stored, no function invoked). The bucket is
    the one the page just located: a page's thumbnails cost no DescribeStacks each."""
    console = state.of(request)
    bucket = console.workspace.recent_bucket()
    body = thumbnails.cached(bucket, key, etag) if etag else None
    if body is None:
        _, clients = console.workspace.target()
        source = images_op.get(clients, bucket, key)
        try:
            body = thumbnails.render(source.body)
        except thumbnails.NoPreview as exc:
            raise HTTPException(415, f"no preview of {key!r}: {exc}") from None
        if etag:
            thumbnails.remember(bucket, key, etag, body)
    headers = {
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=86400" if etag else "private, max-age=60",
    }
    return Response(body, media_type="image/webp", headers=headers)


@router.post("/images/delete", name="images_delete", openapi_extra=cli("images rm"))
def delete(request: Request, key: str = Form(...), no_invalidate: bool = Form(False)) -> Any:
    if not key.strip():
        raise ConfigError("no key given")
    clients, bucket, delivery = state.of(request).workspace.location()
    removal = images_op.remove(clients, bucket, key, delivery=delivery, invalidate=not no_invalidate)
    return done(
        request,
        f"/images?deleted={quote(key, safe='')}{removal_query(removal)}",
        jsonable.deleted(key, removal),
    )


@router.post("/images/purge", name="images_purge", openapi_extra=cli("images purge"))
def purge(
    request: Request, spec: str = Form(""), stale: bool = Form(False), no_invalidate: bool = Form(False)
) -> Any:
    if bool(spec.strip()) == stale:
        raise ConfigError("give a size or stale (one of them)", hint="e.g. 300x200")
    clients, bucket, delivery = state.of(request).workspace.location()
    invalidate = not no_invalidate
    if stale:
        removal = images_op.purge_stale(clients, bucket, delivery=delivery, invalidate=invalidate)
        url = f"/images?purged_stale=1&count={len(removal.deleted)}"
    else:
        removal = images_op.purge(clients, bucket, spec, delivery=delivery, invalidate=invalidate)
        url = f"/images?purged={quote(spec.strip(), safe='')}&count={len(removal.deleted)}"
    return done(
        request,
        url + removal_query(removal),
        jsonable.purged(spec.strip(), stale, removal),
    )
