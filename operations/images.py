"""Images: the originals and the derived sizes in the stack's images bucket.

A key whose first segment is a size spec (``300x200/cat.jpg``, ``x600,webp/a/b.png``) is a
derived object; anything else is an original. Uploads are checked (a real image of a format the
function accepts, within the size and pixel limits, never into the derived namespace) and never
overwrite unless asked. Derived objects follow their originals: replacing an original (with
different bytes) or deleting it deletes its derived objects at once, and in cdn delivery the CDN
paths of everything deleted are invalidated with one CreateInvalidation per operation. ``stale``
finds derived objects whose ``source-etag`` metadata no longer matches their original's ETag
(or whose original is gone), for buckets that predate the cleanup. Every ``DeleteObjects``
answer is checked: keys S3 could not delete are reported, never dropped.
"""

import io
import mimetypes
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from operations import cdn, deletions, stack
from operations.aws import Clients, translated
from operations.errors import ConfigError, NotFound, OperationError
from resizer_function import formats
from resizer_function.errors import RequestRefused
from resizer_function.request import derived_spec, parse_path
from resizer_function.settings import Settings as FunctionSettings

MAX_UPLOAD_BYTES = FunctionSettings.max_source_bytes  # the function's defaults: it refuses more
MAX_UPLOAD_PIXELS = FunctionSettings.max_source_pixels
UPLOAD_FORMATS = formats.SOURCE_TYPES  # the formats the function accepts, and their content types
HEAD_THREADS = 8
SKIPPED = "invalidation skipped"  # Removal.not_invalidated when the caller asked for none


@dataclass(frozen=True)
class ImageObject:
    key: str
    size: int
    last_modified: datetime
    derived: bool
    spec: str = ""  # the size spec of a derived object
    etag: str = ""  # without quotes

    @property
    def original(self) -> str:
        """For a derived object, the original's key; for an original, its own key."""
        return self.key.split("/", 1)[1] if self.derived else self.key


@dataclass(frozen=True)
class Download:
    key: str
    body: bytes
    content_type: str
    cache_control: str = ""


@dataclass(frozen=True)
class Removal:
    """What a delete did: the keys deleted (``derived`` of them followed a deleted or replaced
    original) and the CDN invalidation of their paths, or why there was none."""

    deleted: list[str] = field(default_factory=list)
    derived: list[str] = field(default_factory=list)
    invalidation: cdn.Invalidation | None = None
    not_invalidated: str = ""  # why there is no invalidation ('' when there is one)

    @property
    def skipped(self) -> bool:
        """Whether the CDN was left stale on request (``invalidate=False``): fronts warn of it."""
        return self.not_invalidated == SKIPPED


@dataclass(frozen=True)
class Uploaded:
    """An uploaded original; ``replaced`` when it replaced different bytes under the same key (then
    ``removal`` says which derived objects went and how the CDN was invalidated)."""

    key: str
    size: int
    last_modified: datetime
    etag: str = ""
    replaced: bool = False
    removal: Removal = field(default_factory=Removal)


@dataclass(frozen=True)
class Stale:
    """A derived object that no longer shows its original: ``changed`` or ``missing``."""

    image: ImageObject
    reason: str
    source_etag: str = ""
    original_etag: str = ""


@dataclass(frozen=True)
class Group:
    """An original and its derived objects (one page of the console's Images page)."""

    original: ImageObject
    derived: list[ImageObject] = field(default_factory=list)


@dataclass(frozen=True)
class Page:
    groups: list[Group]
    next: str = ""  # the continuation token of the next page ('' on the last)
    sizes: list[str] = field(default_factory=list)  # the bucket's size specs (read for the derived)


@translated
def bucket_of(clients: Clients, stack_name: str) -> str:
    return location(clients, stack_name)[0]


@translated
def location(clients: Clients, stack_name: str) -> tuple[str, cdn.Delivery]:
    """The images bucket of the stack and how its images are delivered (one DescribeStacks)."""
    described = stack.require(clients.client("cloudformation"), stack_name)
    outputs = stack.outputs(described)
    if "BucketName" not in outputs:
        raise NotFound(f"stack {stack_name} has no BucketName output")
    return outputs["BucketName"], cdn.delivery_of(outputs, stack.parameters(described))


def _object(raw: dict) -> ImageObject:
    spec = derived_spec(raw["Key"])
    etag = str(raw.get("ETag", "")).strip('"')
    return ImageObject(raw["Key"], raw["Size"], raw["LastModified"], bool(spec), spec, etag)


@translated
def listing(clients: Clients, bucket: str, *, prefix: str = "", kind: str = "all") -> Iterator[ImageObject]:
    """Objects under prefix; kind is 'all', 'originals' or 'derived'."""
    if kind not in ("all", "originals", "derived"):
        raise ConfigError(f"kind must be all, originals or derived, not {kind!r}")
    paginator = clients.client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for raw in page.get("Contents", []):
            found = _object(raw)
            if kind == "all" or (kind == "derived") == found.derived:
                yield found


def check_upload(
    key: str, body: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS
) -> str:
    """The upload's content type; ConfigError when the key or the bytes are not acceptable.

    Accepted means what the function accepts (resizer_function.formats); a file that declares
    more pixels than the function decodes is refused from its header, before any pixel is read.
    """
    from PIL import Image

    if not key or key.startswith("/") or key.endswith("/"):
        raise ConfigError(f"{key!r} is not an object key", hint="e.g. photos/cat.jpg")
    if derived_spec(key):
        raise ConfigError(f"{key!r} is in the resized namespace", hint="originals must not start with a size")
    if any(part in (".", "..") for part in key.split("/")) or any(ord(c) < 32 for c in key):
        raise ConfigError(f"{key!r} has '.', '..' or control characters")
    if len(body) > max_bytes:
        raise ConfigError(f"the image is {len(body):,} bytes, over the {max_bytes:,} limit")
    too_many = ConfigError(
        f"{key!r} declares more than {max_pixels:,} pixels (a decompression bomb or a huge image)",
        hint=f"the function would refuse it (413): originals may have up to {max_pixels:,} pixels",
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(body), formats=formats.DECODERS) as im:  # JPEG opens MPO
                fmt = im.format or ""
                if im.width * im.height > max_pixels:
                    raise too_many
                im.verify()
    except ConfigError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise too_many from None
    except Exception:  # any decoder's complaint about bytes that are not an image it reads
        raise ConfigError(
            f"{key!r} is not a {formats.described()} image", hint="the function would refuse it (415)"
        ) from None
    if fmt not in UPLOAD_FORMATS:  # pragma: no cover - a decoder listed without a content type
        raise ConfigError(f"{key!r} is a {fmt} image, which the function does not accept")
    return UPLOAD_FORMATS[fmt]


@translated
def put(
    clients: Clients,
    bucket: str,
    key: str,
    body: bytes,
    *,
    overwrite: bool = False,
    delivery: cdn.Delivery | None = None,
    invalidate: bool = True,
) -> Uploaded:
    """Upload an original after checking it; refuses to replace an existing key unless overwrite.

    Replacing different bytes deletes the original's derived objects and, in cdn delivery,
    invalidates the original's path and theirs.
    """
    from botocore.exceptions import ClientError

    content_type = check_upload(key, body)
    s3 = clients.client("s3")
    previous = _etag(s3, bucket, key) if overwrite else ""
    # Listed before the put too: the stack's cleanup function may delete them as soon as S3 has
    # the new bytes, and what this call removed must still be reported (a gone key deletes fine).
    before = derived_of(clients, bucket, key) if previous else []
    extra = {} if overwrite else {"IfNoneMatch": "*"}
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise OperationError(f"{key!r} already exists", hint="pass --overwrite to replace it") from None
        raise
    head = s3.head_object(Bucket=bucket, Key=key)
    etag = str(head.get("ETag", "")).strip('"')
    replaced = bool(previous) and previous != etag
    removal = Removal(not_invalidated="nothing was replaced")
    if replaced:
        derived = list(dict.fromkeys([*before, *derived_of(clients, bucket, key)]))
        deleted, failures = _delete(s3, bucket, derived)
        removal = _finish(
            clients, delivery, invalidate, deleted, deleted, exact=[key, *deleted], failures=failures
        )
    return Uploaded(key, head["ContentLength"], head["LastModified"], etag, replaced, removal)


def _etag(s3, bucket: str, key: str) -> str:
    from botocore.exceptions import ClientError

    try:
        return str(s3.head_object(Bucket=bucket, Key=key).get("ETag", "")).strip('"')
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return ""
        raise


@translated
def get(clients: Clients, bucket: str, key: str) -> Download:
    from botocore.exceptions import ClientError

    _require_key(key)
    try:
        found = clients.client("s3").get_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise NotFound(f"no object {key!r} in {bucket}") from None
        raise
    content_type = found.get("ContentType") or mimetypes.guess_type(key)[0] or "application/octet-stream"
    return Download(key, found["Body"].read(), content_type, found.get("CacheControl", ""))


@translated
def remove(
    clients: Clients,
    bucket: str,
    key: str,
    *,
    delivery: cdn.Delivery | None = None,
    invalidate: bool = True,
) -> Removal:
    """Delete one object; deleting an original deletes its derived objects too."""
    _require_key(key)
    s3 = clients.client("s3")
    if not _etag(s3, bucket, key):
        raise NotFound(f"no object {key!r} in {bucket}")
    derived = [] if derived_spec(key) else derived_of(clients, bucket, key)
    deleted, failures = _delete(s3, bucket, [key, *derived])
    return _finish(
        clients, delivery, invalidate, deleted, [k for k in derived if k in deleted], failures=failures
    )


def _require_key(key: str) -> None:
    if not key or key.endswith("/"):
        raise ConfigError(f"{key!r} is not an object key", hint="e.g. photos/cat.jpg or 300x200/cat.jpg")


@translated
def sizes(clients: Clients, bucket: str) -> list[str]:
    """The size specs that have derived objects in the bucket (its top-level 'folders' that are specs).

    The cleanup function's listing: it jumps over every top-level name that cannot begin a size, so
    a bucket of many originals costs a few requests, not a walk of its whole top level. Imported
    here, not at the top: it loads boto3, which a command that lists nothing need not pay for.
    """
    from resizer_function.cleanup import stored_specs

    return stored_specs(clients.client("s3"), bucket)


@translated
def derived_of(clients: Clients, bucket: str, key: str) -> list[str]:
    """The keys ``{spec}/{key}`` that exist: one listing per stored size."""
    s3 = clients.client("s3")
    found = []
    for spec in sizes(clients, bucket):
        candidate = f"{spec}/{key}"
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=candidate, MaxKeys=1).get("Contents", [])
        if listed and listed[0]["Key"] == candidate:  # the exact key sorts first among its prefix's
            found.append(candidate)
    return found


def accepted_types() -> list[str]:
    """The content types an upload may have (the formats the function reads)."""
    return list(formats.content_types())


def accepted_described() -> str:
    """Those formats in words, e.g. for help text and the upload form."""
    return formats.described()


def resized_url(delivery: cdn.Delivery, spec: str, key: str) -> tuple[str | None, str]:
    """(The public URL of key at size spec, or None when the stack serves none; why the path is
    refused, '' when it is valid). The refusal names the canonical spelling when there is one."""
    try:
        request = parse_path(f"/{spec.strip().strip('/')}/{key}")
    except RequestRefused as refused:
        return None, refused.message
    return (f"{delivery.base_url.rstrip('/')}{request.url_path}" if delivery.base_url else None), ""


def canonical_spec(spec: str) -> str:
    """The canonical spelling of a size spec; ConfigError naming the right one when it is not."""
    spec = spec.strip().strip("/")
    try:
        canonical = parse_path(f"/{spec}/x").spec
    except RequestRefused as refused:
        if "canonical" in refused.extra:
            better = refused.extra["canonical"][1:-2]
            raise ConfigError(f"{spec!r} is not how that size is written", hint=f"use {better}") from None
        raise ConfigError(f"{spec!r} is not a size spec: {refused.message}") from None
    return canonical


@translated
def purge(
    clients: Clients,
    bucket: str,
    spec: str,
    *,
    delivery: cdn.Delivery | None = None,
    invalidate: bool = True,
) -> Removal:
    """Delete every derived object of one size spec (e.g. '300x200' or '300x200,webp').

    In cdn delivery the size's path is invalidated (``/300x200/*``) even when S3 had nothing
    left: the CDN may still hold copies.
    """
    canonical = canonical_spec(spec)
    s3 = clients.client("s3")
    deleted: list[str] = []
    failures: list[dict] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{canonical}/"):
        done, failed = _delete(s3, bucket, [o["Key"] for o in page.get("Contents", [])])
        deleted += done
        failures += failed
    return _finish(
        clients, delivery, invalidate, deleted, deleted, exact=[], wildcards=[canonical], failures=failures
    )


@translated
def stale(clients: Clients, bucket: str, *, prefix: str = "") -> list[Stale]:
    """Derived objects (under prefix) whose source-etag differs from their original's ETag, or
    whose original is gone. Derived objects without a source-etag (not written by the function)
    are never called stale while their original exists."""
    originals: dict[str, str] = {}
    derived: list[ImageObject] = []
    for item in listing(clients, bucket):
        if not item.derived:
            originals[item.key] = item.etag
        elif item.key.startswith(prefix):
            derived.append(item)
    found = [Stale(d, "missing") for d in derived if d.original not in originals]
    present = [d for d in derived if d.original in originals]
    s3 = clients.client("s3")

    def check(item: ImageObject) -> Stale | None:
        from botocore.exceptions import ClientError

        try:
            metadata = s3.head_object(Bucket=bucket, Key=item.key).get("Metadata", {})
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None  # deleted meanwhile
            raise
        source = metadata.get("source-etag", "")
        original = originals[item.original]
        return Stale(item, "changed", source, original) if source and source != original else None

    with ThreadPoolExecutor(HEAD_THREADS) as pool:
        found += [s for s in pool.map(check, present) if s is not None]
    return sorted(found, key=lambda s: s.image.key)


@translated
def purge_stale(
    clients: Clients,
    bucket: str,
    *,
    prefix: str = "",
    delivery: cdn.Delivery | None = None,
    invalidate: bool = True,
) -> Removal:
    """Delete what ``stale`` finds (and invalidate its paths in cdn delivery)."""
    keys = [s.image.key for s in stale(clients, bucket, prefix=prefix)]
    deleted, failures = _delete(clients.client("s3"), bucket, keys)
    return _finish(clients, delivery, invalidate, deleted, deleted, failures=failures)


def _delete(s3, bucket: str, keys: list[str]) -> tuple[list[str], list[dict]]:
    """Delete keys; (deleted keys, S3's Errors entries for the keys it did not delete)."""
    done, failures = deletions.delete(s3, bucket, [{"Key": k} for k in keys])
    return [o["Key"] for o in done], failures


def _finish(
    clients: Clients,
    delivery: cdn.Delivery | None,
    invalidate: bool,
    deleted: list[str],
    derived: list[str],
    *,
    exact: list[str] | None = None,
    wildcards: list[str] | None = None,
    failures: list[dict] | None = None,
) -> Removal:
    """Invalidate the paths of what was deleted (cdn delivery only), then report any failure.

    The paths are the exact keys (default: those deleted) and the wildcards (whole sizes)."""
    paths_of = deleted if exact is None else exact
    invalidation, reason = None, ""
    if delivery is None or not delivery.cdn:
        reason = "not served through a CDN"
    elif not invalidate:
        reason = SKIPPED
    elif not paths_of and not wildcards:
        reason = "nothing was deleted"
    else:
        invalidation = cdn.invalidate(
            clients, delivery.distribution_id, cdn.paths_for(paths_of, wildcards or [])
        )
    if failures:
        raise _delete_failed(failures, invalidation)
    return Removal(list(deleted), list(derived), invalidation, reason)


def _delete_failed(failures: list[dict], invalidation: cdn.Invalidation | None) -> OperationError:
    hint = f"the others were deleted; CDN invalidation {invalidation.id} covers them" if invalidation else ""
    return deletions.failed(failures, hint)


@translated
def browse(clients: Clients, bucket: str, *, prefix: str = "", after: str = "", page_size: int = 50) -> Page:
    """One page of originals (keys after ``after``, under prefix), newest first, each with its
    derived objects. Pages follow key order (S3 lists nothing by time); within a page, time."""
    s3 = clients.client("s3")
    want = page_size + 1  # one more than is shown says whether there is a next page
    found: list[ImageObject] = []
    start_after = after
    while len(found) < want:
        kwargs = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": min(1000, want - len(found))}
        if start_after:
            kwargs["StartAfter"] = start_after
        answer = s3.list_objects_v2(**kwargs)
        jumped = False
        for raw in answer.get("Contents", []):
            item = _object(raw)
            if item.derived:  # skip the whole size: everything from '{spec}/' to just before '{spec}0'
                start_after = f"{item.spec}/\U0010ffff"
                jumped = True
                break
            found.append(item)
            start_after = item.key
        if not jumped and not answer.get("IsTruncated"):
            break
    originals = found[:page_size]
    specs = sizes(clients, bucket)  # also the page's: the console offers to purge each size
    groups = _with_derived(clients, bucket, originals, specs, page_size)
    groups.sort(key=lambda g: g.original.last_modified, reverse=True)
    return Page(groups, originals[-1].key if len(found) > page_size else "", specs)


def _with_derived(
    clients: Clients, bucket: str, originals: list[ImageObject], specs: list[str], page_size: int
) -> list[Group]:
    """Each original with its derived objects: per stored size, one listing over the page's key range."""
    if not originals:
        return []
    wanted = {o.key: [] for o in originals}  # type: dict[str, list[ImageObject]]
    first, last = min(wanted), max(wanted)
    paginator = clients.client("s3").get_paginator("list_objects_v2")
    for spec in specs:
        kwargs = {"Bucket": bucket, "Prefix": f"{spec}/", "StartAfter": f"{spec}/{first[:-1]}"}
        done = False
        for page in paginator.paginate(**kwargs, PaginationConfig={"PageSize": min(1000, page_size + 10)}):
            for raw in page.get("Contents", []):
                original = raw["Key"][len(spec) + 1 :]
                if original > last:
                    done = True
                    break
                if original in wanted:
                    wanted[original].append(_object(raw))
            if done:
                break
    return [Group(o, sorted(wanted[o.key], key=lambda d: d.spec)) for o in originals]
