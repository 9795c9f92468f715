"""Images (/images): originals and derived sizes with thumbnails, upload (checked here and in
operations.images), "try a size", purge a derived size, delete an object, download one.

Thumbnails of originals are the website URL of a small derived size, so loading the page runs
the real flow (a miss, the function, a stored thumbnail); derived objects are shown through
/images/object, which streams the object itself and serves only image types (anything else is
a download, never rendered on the console's origin).
"""

from collections import Counter
from itertools import islice
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from console import state
from console.features import cli
from console.web import done, page
from operations import images as images_op
from operations import stack as stack_op
from operations.errors import ConfigError, OperationError, StackNotFound
from resizer_function.errors import RequestRefused
from resizer_function.request import parse_path, parse_size

router = APIRouter()
SHOWN = 500
THUMB = "160x160"
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif", "image/avif"}


def thumb_spec(allowed: str) -> str | None:
    """A small size the stack accepts: 160x160 unless AllowedSizes says otherwise (then its smallest)."""
    sizes = [s.strip().lower() for s in allowed.split(",") if s.strip()]
    if not sizes or THUMB in sizes:
        return f"{THUMB},inside"
    try:
        best = min(sizes, key=lambda s: max(v or 0 for v in parse_size(s)))
        width, height = parse_size(best)
    except RequestRefused:
        return None
    return f"{best},inside" if width and height else best


def website_path(website: str, spec: str, key: str) -> tuple[str | None, str]:
    """(URL of spec/key on the website, or None; the error if the path is not a valid request)."""
    try:
        request = parse_path(f"/{spec}/{key}")
    except RequestRefused as refused:  # the message names the canonical spelling when there is one
        return None, refused.message
    return (f"{website.rstrip('/')}{request.url_path}" if website else None), ""


def _stack(request: Request) -> tuple[Any, dict[str, str], dict[str, str]]:
    workspace = state.of(request).workspace
    described = workspace.description()
    params = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters", [])}
    return workspace, stack_op.outputs(described), params


def _flash(request: Request) -> str:
    query = request.query_params
    if "uploaded" in query:
        return f"Uploaded {query['uploaded']}."
    if "deleted" in query:
        return f"Deleted {query['deleted']}."
    if "purged" in query:
        return f"Purged {query.get('count', '0')} object(s) of size {query['purged']}."
    return ""


@router.get("/images", response_class=HTMLResponse, name="images_page", openapi_extra=cli("images ls"))
def images_page(
    request: Request, prefix: str = "", kind: str = "all", try_spec: str = "", try_key: str = ""
) -> HTMLResponse:
    console = state.of(request)
    found, clients = console.workspace.target()
    try:
        workspace, outputs, params = _stack(request)
    except StackNotFound:
        return page(request, "images.html", title="Images", missing=True, stack=found.target.stack)
    bucket = workspace.bucket()
    listed = list(islice(images_op.listing(clients, bucket, prefix=prefix, kind=kind), SHOWN + 1))
    website = outputs.get("WebsiteUrl", "")
    thumb = thumb_spec(params.get("AllowedSizes", ""))
    rows = []
    for item in listed[:SHOWN]:
        if item.derived:
            preview = f"/images/object?key={quote(item.key, safe='')}"
            url = f"{website.rstrip('/')}/{quote(item.key, safe='/,')}" if website else ""
        else:
            preview = website_path(website, thumb, item.key)[0] if thumb else None
            url = f"{website.rstrip('/')}/{quote(item.key, safe='/')}" if website else ""
        rows.append({"item": item, "preview": preview, "url": url})
    originals = [i.key for i in listed if not i.derived]
    tried = None
    if try_spec.strip():
        key = try_key or (originals[0] if originals else "")
        url, problem = website_path(website, try_spec.strip().strip("/"), key)
        tried = {"spec": try_spec.strip(), "key": key, "url": url, "problem": problem}
    return page(
        request,
        "images.html",
        title="Images",
        missing=False,
        bucket=bucket,
        website=website,
        rows=rows,
        more=len(listed) > SHOWN,
        shown=SHOWN,
        prefix=prefix,
        kind=kind,
        specs=sorted(Counter(i.spec for i in listed if i.derived).items()),
        originals=originals,
        tried=tried,
        flash=_flash(request),
        max_bytes=console.settings.max_upload_bytes,
        accept=",".join(sorted(set(images_op.UPLOAD_FORMATS.values()))),
    )


@router.get("/api/images", name="api_images", openapi_extra=cli("images ls"))
def api_images(request: Request, prefix: str = "", kind: str = "all") -> JSONResponse:
    console = state.of(request)
    _, clients = console.workspace.target()
    bucket = console.workspace.bucket()
    found = [
        {
            "key": i.key,
            "size": i.size,
            "last_modified": i.last_modified.isoformat(),
            "derived": i.derived,
            "spec": i.spec,
        }
        for i in images_op.listing(clients, bucket, prefix=prefix, kind=kind)
    ]
    return JSONResponse({"bucket": bucket, "images": found})


@router.post("/images/upload", name="images_upload", openapi_extra=cli("images put"))
def upload(
    request: Request,
    file: Annotated[UploadFile, File()],
    key: Annotated[str, Form()] = "",
    overwrite: Annotated[bool, Form()] = False,
) -> Any:
    console = state.of(request)
    limit = console.settings.max_upload_bytes
    name = (key.strip() or (file.filename or "").rsplit("/", 1)[-1]).lstrip("/")
    body = file.file.read(limit + 1)
    images_op.check_upload(name, body, limit)  # this console's limit, before the operation's own check
    _, clients = console.workspace.target()
    bucket = console.workspace.bucket()
    try:
        stored = images_op.put(clients, bucket, name, body, overwrite=overwrite)
    except OperationError as exc:
        if type(exc) is OperationError and "already exists" in exc.message:
            raise HTTPException(
                409, f"{name!r} already exists: tick 'Replace an existing original'"
            ) from None
        raise
    return done(
        request,
        f"/images?uploaded={quote(stored.key, safe='')}",
        {"key": stored.key, "size": stored.size, "bucket": bucket},
    )


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


@router.post("/images/delete", name="images_delete", openapi_extra=cli("images rm"))
def delete(request: Request, key: str = Form(...)) -> Any:
    console = state.of(request)
    _, clients = console.workspace.target()
    if not key.strip():
        raise ConfigError("no key given")
    images_op.remove(clients, console.workspace.bucket(), key)
    return done(request, f"/images?deleted={quote(key, safe='')}", {"deleted": key})


@router.post("/images/purge", name="images_purge", openapi_extra=cli("images purge"))
def purge(request: Request, spec: str = Form(...)) -> Any:
    console = state.of(request)
    _, clients = console.workspace.target()
    count = images_op.purge(clients, console.workspace.bucket(), spec)
    return done(
        request,
        f"/images?purged={quote(spec.strip(), safe='')}&count={count}",
        {"spec": spec, "deleted": count},
    )
