"""Images: the originals and the derived sizes in the stack's images bucket.

A key whose first segment is a size spec (``300x200/cat.jpg``, ``x600,webp/a/b.png``) is a
derived object; anything else is an original. Uploads are checked (a real image of a supported
format, within the size limit, never into the derived namespace) and never overwrite unless
asked; ``purge`` deletes every object of one derived size, never an original.
"""

import io
import mimetypes
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from operations import stack
from operations.aws import Clients, translated
from operations.errors import ConfigError, NotFound, OperationError
from resizer_function.errors import RequestRefused
from resizer_function.request import parse_path, parse_size

MAX_UPLOAD_BYTES = 30_000_000  # the function's default MAX_SOURCE_BYTES
UPLOAD_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # how Pillow names camera JPEGs that carry a second picture
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}


@dataclass(frozen=True)
class ImageObject:
    key: str
    size: int
    last_modified: datetime
    derived: bool
    spec: str = ""  # the size spec of a derived object

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


@translated
def bucket_of(clients: Clients, stack_name: str) -> str:
    outputs = stack.outputs(stack.require(clients.client("cloudformation"), stack_name))
    if "BucketName" not in outputs:
        raise NotFound(f"stack {stack_name} has no BucketName output")
    return outputs["BucketName"]


def derived_spec(key: str) -> str:
    """The size spec a derived key starts with, or '' for an original."""
    head, slash, rest = key.partition("/")
    if not slash or not rest:
        return ""
    try:
        parse_size(head.split(",")[0])
    except RequestRefused:
        return ""
    return head


@translated
def listing(clients: Clients, bucket: str, *, prefix: str = "", kind: str = "all") -> Iterator[ImageObject]:
    """Objects under prefix; kind is 'all', 'originals' or 'derived'."""
    if kind not in ("all", "originals", "derived"):
        raise ConfigError(f"kind must be all, originals or derived, not {kind!r}")
    paginator = clients.client("s3").get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for raw in page.get("Contents", []):
            spec = derived_spec(raw["Key"])
            if kind == "all" or (kind == "derived") == bool(spec):
                yield ImageObject(raw["Key"], raw["Size"], raw["LastModified"], bool(spec), spec)


def check_upload(key: str, body: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """The upload's content type; ConfigError when the key or the bytes are not acceptable."""
    from PIL import Image, UnidentifiedImageError

    if not key or key.startswith("/") or key.endswith("/"):
        raise ConfigError(f"{key!r} is not an object key", hint="e.g. photos/cat.jpg")
    if derived_spec(key):
        raise ConfigError(f"{key!r} is in the resized namespace", hint="originals must not start with a size")
    if any(part in (".", "..") for part in key.split("/")) or any(ord(c) < 32 for c in key):
        raise ConfigError(f"{key!r} has '.', '..' or control characters")
    if len(body) > max_bytes:
        raise ConfigError(f"the image is {len(body):,} bytes, over the {max_bytes:,} limit")
    try:
        with Image.open(io.BytesIO(body), formats=["JPEG", "PNG", "WEBP", "GIF"]) as im:  # JPEG opens MPO
            fmt = im.format or ""
            im.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ConfigError(
            f"{key!r} is not a JPEG, PNG, WebP or GIF image", hint="the function would refuse it (415)"
        ) from None
    return UPLOAD_FORMATS[fmt]


@translated
def put(clients: Clients, bucket: str, key: str, body: bytes, *, overwrite: bool = False) -> ImageObject:
    """Upload an original after checking it; refuses to replace an existing key unless overwrite."""
    from botocore.exceptions import ClientError

    content_type = check_upload(key, body)
    extra = {} if overwrite else {"IfNoneMatch": "*"}
    try:
        clients.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, **extra)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
            raise OperationError(f"{key!r} already exists", hint="pass --overwrite to replace it") from None
        raise
    head = clients.client("s3").head_object(Bucket=bucket, Key=key)
    return ImageObject(key, head["ContentLength"], head["LastModified"], False)


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
def remove(clients: Clients, bucket: str, key: str) -> None:
    """Delete one object (an original's derived sizes stay until purged)."""
    _require_key(key)
    s3 = clients.client("s3")
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            raise NotFound(f"no object {key!r} in {bucket}") from None
        raise
    s3.delete_object(Bucket=bucket, Key=key)


def _require_key(key: str) -> None:
    if not key or key.endswith("/"):
        raise ConfigError(f"{key!r} is not an object key", hint="e.g. photos/cat.jpg or 300x200/cat.jpg")


@translated
def purge(clients: Clients, bucket: str, spec: str) -> int:
    """Delete every derived object of one size spec (e.g. '300x200' or '300x200,webp'); the count."""
    spec = spec.strip().strip("/")
    try:
        canonical = parse_path(f"/{spec}/x").spec
    except RequestRefused as refused:
        if "canonical" in refused.extra:
            better = refused.extra["canonical"][1:-2]
            raise ConfigError(f"{spec!r} is not how that size is written", hint=f"use {better}") from None
        raise ConfigError(f"{spec!r} is not a size spec: {refused.message}") from None
    s3 = clients.client("s3")
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{canonical}/"):
        keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        for start in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=bucket, Delete={"Objects": keys[start : start + 1000], "Quiet": True})
        count += len(keys)
    return count
