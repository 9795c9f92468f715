"""The CDN in front of the images bucket: the stack's delivery mode, invalidations, the distribution.

A stack deployed with ``Delivery=cdn`` (the template's default) outputs ``CdnUrl`` and
``DistributionId``; one with ``Delivery=website`` (or deployed before the parameter existed)
serves images from the bucket's website and has no CDN to invalidate. Invalidation paths are the
URL paths viewers request (the function's own encoding of keys), so they match the cached copies.
One command makes at most one ``CreateInvalidation``: CloudFront allows 3,000 file paths and 15
wildcard paths in progress per distribution, so larger sets collapse into per-size wildcards
(``/300x200/*``) and, past 15 of those, into ``/*``.
"""

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from operations import stack
from operations.aws import Clients, translated
from operations.errors import ConfigError, NotFound

CDN, WEBSITE = "cdn", "website"
MAX_FILE_PATHS = 3000  # CloudFront's limit of file paths in progress per distribution
MAX_WILDCARDS = 15  # ... and of wildcard paths in progress
SAFE = "/,~!$&'()*;=:@"  # what the function leaves unencoded in its URLs ('+' is encoded: S3 reads a space)


@dataclass(frozen=True)
class Delivery:
    """How the stack serves images: 'cdn' (CloudFront, https) or 'website' (the bucket's website)."""

    mode: str
    base_url: str  # where images are: the CDN URL in cdn mode, the website URL otherwise
    cdn_url: str = ""
    distribution_id: str = ""
    website_url: str = ""

    @property
    def cdn(self) -> bool:
        return self.mode == CDN and bool(self.distribution_id)

    def url(self, key: str) -> str:
        """The public URL of an object key ('' when the stack has no public URL)."""
        return f"{self.base_url}{path_of(key)}" if self.base_url else ""


@dataclass(frozen=True)
class Invalidation:
    id: str
    status: str
    paths: list[str] = field(default_factory=list)
    created: datetime | None = None


@dataclass(frozen=True)
class Distribution:
    id: str
    status: str
    domain: str
    aliases: list[str]
    enabled: bool
    invalidations: list[Invalidation] = field(default_factory=list)


def delivery_of(outputs: dict[str, str], parameters: dict[str, str] | None = None) -> Delivery:
    """The delivery of a stack from its outputs (and its Delivery parameter, when it has one)."""
    parameters = parameters or {}
    cdn_url = outputs.get("CdnUrl", "").rstrip("/")
    website = outputs.get("WebsiteUrl", "").rstrip("/")
    distribution = outputs.get("DistributionId", "")
    mode = parameters.get("Delivery") or (CDN if distribution else WEBSITE)
    if mode == CDN and distribution:
        return Delivery(CDN, cdn_url or website, cdn_url, distribution, website)
    return Delivery(mode, website, cdn_url, distribution, website)


@translated
def delivery(clients: Clients, stack_name: str) -> Delivery:
    """The delivery of the deployed stack; StackNotFound if there is none."""
    described = stack.require(clients.client("cloudformation"), stack_name)
    return delivery_of(stack.outputs(described), stack.parameters(described))


def require_cdn(found: Delivery, stack_name: str) -> str:
    """The distribution id, or a ConfigError saying the stack has no CDN."""
    if not found.cdn:
        raise ConfigError(
            f"stack {stack_name} serves images from its bucket website (Delivery={found.mode}): "
            "there is no CDN",
            hint="deploy with -p Delivery=cdn to put CloudFront in front",
        )
    return found.distribution_id


def path_of(key: str) -> str:
    """The URL path of an object key, encoded as the function and the console write it."""
    return quote("/" + key.lstrip("/"), safe=SAFE)


def user_path(text: str) -> str:
    """A path given by a user ('300x200/cat.jpg', '/300x200/*', already encoded or not), encoded once."""
    from urllib.parse import unquote

    text = text.strip()
    if not text:
        raise ConfigError("an empty path", hint="e.g. /300x200/cat.jpg or '/300x200/*'")
    if "?" in text or "#" in text:
        raise ConfigError(f"{text!r}: paths have no query or fragment", hint="e.g. /300x200/cat.jpg")
    wildcard = text.endswith("*")
    body = text[:-1] if wildcard else text
    if "*" in body:
        raise ConfigError(f"{text!r}: '*' is only allowed at the end of a path", hint="e.g. '/300x200/*'")
    encoded = path_of(unquote(body)) if body.strip("/") else "/"
    return encoded + ("*" if wildcard else "")


def paths_for(keys: Iterable[str], wildcards: Iterable[str] = ()) -> list[str]:
    """Invalidation paths for deleted keys (exact) and whole prefixes (wildcards), within the limits."""
    exact = sorted({path_of(k) for k in keys})
    wild = sorted({path_of(w.rstrip("/")) + "/*" for w in wildcards})
    if len(exact) <= MAX_FILE_PATHS and len(wild) <= MAX_WILDCARDS:
        return wild + exact
    from resizer_function.request import derived_spec  # here: status need not load the grammar

    # Too many files: one wildcard per size (and per top folder of originals), or everything.
    heads = {w[1:-2] for w in wild}
    for key in keys:
        head, slash, _ = key.partition("/")
        heads.add(head if slash and derived_spec(key) else "")
    if "" in heads or len(heads) > MAX_WILDCARDS:
        return ["/*"]
    return sorted(path_of(h) + "/*" for h in heads)


def _created(summary: dict) -> float:
    created = summary.get("CreateTime")
    return created.timestamp() if isinstance(created, datetime) else 0.0


def _invalidation(raw: dict) -> Invalidation:
    batch = raw.get("InvalidationBatch", {})
    return Invalidation(
        id=raw["Id"],
        status=raw.get("Status", ""),
        paths=list(batch.get("Paths", {}).get("Items", []) or []),
        created=raw.get("CreateTime"),
    )


@translated
def invalidate(clients: Clients, distribution_id: str, paths: list[str]) -> Invalidation:
    """One CreateInvalidation for the paths (already encoded, each starting with '/')."""
    if not paths:
        raise ConfigError("no paths to invalidate", hint="e.g. resizer cdn invalidate /300x200/cat.jpg")
    for path in paths:
        if not path.startswith("/"):
            raise ConfigError(f"{path!r} does not start with '/'")
    created = clients.client("cloudfront").create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            "CallerReference": f"resizer-{uuid.uuid4()}",
        },
    )
    return _invalidation(created["Invalidation"])


@translated
def invalidation(clients: Clients, distribution_id: str, invalidation_id: str) -> Invalidation:
    return _invalidation(
        clients.client("cloudfront").get_invalidation(DistributionId=distribution_id, Id=invalidation_id)[
            "Invalidation"
        ]
    )


@translated
def wait(
    clients: Clients, distribution_id: str, invalidation_id: str, *, timeout: float = 600, poll: float = 5
) -> Invalidation:
    """Poll the invalidation until it is Completed (or the timeout passes: then as it is)."""
    deadline = time.monotonic() + timeout
    while True:
        found = invalidation(clients, distribution_id, invalidation_id)
        if found.status.lower() == "completed" or time.monotonic() >= deadline:
            return found
        time.sleep(poll)


@translated
def distribution(clients: Clients, distribution_id: str, *, recent: int = 5) -> Distribution:
    """The distribution's status, domain and aliases, and its most recent invalidations."""
    from botocore.exceptions import ClientError

    cloudfront = clients.client("cloudfront")
    try:
        found = cloudfront.get_distribution(Id=distribution_id)["Distribution"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchDistribution":
            raise NotFound(f"no CloudFront distribution {distribution_id}") from None
        raise
    config = found.get("DistributionConfig", {})
    # AWS lists newest first; one page of 100, sorted here, is right for lists that are not.
    listed = cloudfront.list_invalidations(DistributionId=distribution_id, MaxItems="100")
    summaries = listed.get("InvalidationList", {}).get("Items", []) or []
    summaries = sorted(summaries, key=_created, reverse=True)[:recent]
    invalidations = [invalidation(clients, distribution_id, s["Id"]) for s in summaries]
    return Distribution(
        id=found["Id"],
        status=found.get("Status", ""),
        domain=found.get("DomainName", ""),
        aliases=list(config.get("Aliases", {}).get("Items", []) or []),
        enabled=bool(config.get("Enabled", False)),
        invalidations=invalidations,
    )
