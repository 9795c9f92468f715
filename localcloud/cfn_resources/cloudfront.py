"""CloudFront providers (moto has the API but no models): distributions, origin access controls, policies.

- AWS::CloudFront::Distribution: a moto ``Distribution`` made through moto's own CreateDistribution
  (so GetDistribution, CreateInvalidation, ListInvalidations... see it), from the template's
  DistributionConfig translated to the API's shape (lists become ``{Quantity, Items}``,
  ``AcmCertificateArn`` becomes ``ACMCertificateArn``...). ``Ref`` is its id; ``DomainName`` and
  ``Id`` are its attributes. An update keeps the id, as CloudFront does.
- AWS::CloudFront::OriginAccessControl: moto's ``OriginAccessControl``; ``Ref`` and ``Id`` its id.
- AWS::CloudFront::CachePolicy and AWS::CloudFront::OriginRequestPolicy: moto has neither, so they
  are kept beside the distributions, on moto's CloudFront backend (``policies(backend)``), where
  the local CDN (localcloud.cdn) reads them; ``Ref`` and ``Id`` are their ids.

moto refused a default cache behaviour that targets an origin group (it looked for the id among
the origins only); ``install_patches`` lets it, as CloudFront does.
"""

import contextlib
import copy
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from moto.cloudfront.models import Distribution, DistributionConfig, cloudfront_backends
from moto.utilities.utils import get_partition

from localcloud import patching
from localcloud.cfn_resources.adapter import Context, Made, Provider

_lock = threading.Lock()


def backend(account_id: str, region_name: str = "us-east-1") -> Any:
    """moto's CloudFront backend (global: one per partition)."""
    return cloudfront_backends[account_id][get_partition(region_name)]


@dataclass
class Policy:
    """A cache policy or an origin request policy: its id, kind and the template's config."""

    id: str
    kind: str  # "cache" or "origin-request"
    config: dict[str, Any] = field(default_factory=dict)


def policies(cloudfront: Any) -> dict[str, Policy]:
    """The cache and origin request policies of a CloudFront backend (kept on it, so they persist)."""
    found = cloudfront.__dict__.get("localcloud_policies")
    if found is None:
        found = cloudfront.__dict__.setdefault("localcloud_policies", {})
    return found


def _items(values: list[Any] | None) -> dict[str, Any]:
    values = list(values or [])
    return {"Quantity": len(values), "Items": values} if values else {"Quantity": 0}


def api_distribution_config(config: dict[str, Any], caller_reference: str) -> dict[str, Any]:
    """The CreateDistribution DistributionConfig for a template's DistributionConfig."""
    config = copy.deepcopy(config)
    api: dict[str, Any] = {
        "CallerReference": caller_reference,
        "Comment": config.get("Comment", ""),
        "Enabled": config.get("Enabled", True),
        "Aliases": _items(config.get("Aliases")),
        "HttpVersion": config.get("HttpVersion", "http1.1"),
        "IsIPV6Enabled": config.get("IPV6Enabled", False),
        "PriceClass": config.get("PriceClass", "PriceClass_All"),
        "DefaultRootObject": config.get("DefaultRootObject", ""),
        "WebACLId": config.get("WebACLId", ""),
    }
    origins = []
    for origin in config.get("Origins") or []:
        item = {k: v for k, v in origin.items() if k not in ("CustomOriginConfig", "OriginCustomHeaders")}
        custom = origin.get("CustomOriginConfig")
        if custom is not None:
            custom = dict(custom)
            custom.setdefault("HTTPPort", 80)
            custom.setdefault("HTTPSPort", 443)
            custom["OriginSslProtocols"] = _items(custom.pop("OriginSSLProtocols", ["TLSv1.2"]))
            item["CustomOriginConfig"] = custom
        item["CustomHeaders"] = _items(origin.get("OriginCustomHeaders"))
        origins.append(item)
    api["Origins"] = _items(origins)
    if config.get("OriginGroups"):
        api["OriginGroups"] = config["OriginGroups"]
    api["DefaultCacheBehavior"] = _api_behaviour(config.get("DefaultCacheBehavior") or {})
    behaviours = [_api_behaviour(b) for b in config.get("CacheBehaviors") or []]
    if behaviours:
        api["CacheBehaviors"] = _items(behaviours)
    if config.get("CustomErrorResponses"):
        api["CustomErrorResponses"] = _items(config["CustomErrorResponses"])
    certificate = config.get("ViewerCertificate")
    if certificate:
        renamed = {"AcmCertificateArn": "ACMCertificateArn", "SslSupportMethod": "SSLSupportMethod"}
        api["ViewerCertificate"] = {renamed.get(k, k): v for k, v in certificate.items()}
    return api


def _api_behaviour(behaviour: dict[str, Any]) -> dict[str, Any]:
    item = {k: v for k, v in behaviour.items() if k not in ("AllowedMethods", "CachedMethods")}
    allowed = behaviour.get("AllowedMethods") or ["GET", "HEAD"]
    cached = behaviour.get("CachedMethods") or ["GET", "HEAD"]
    item["AllowedMethods"] = {**_items(allowed), "CachedMethods": _items(cached)}
    item.setdefault("Compress", False)
    return item


@contextlib.contextmanager
def _origin_group_target(api: dict[str, Any]) -> Iterator[str]:
    """Hide an origin group target from moto's check (which knows only origins) while it runs, even
    where ``install_patches`` is not in force (moto without the local cloud); yields the target."""
    behaviour = api["DefaultCacheBehavior"]
    target = behaviour.get("TargetOriginId", "")
    groups = {g.get("Id") for g in (api.get("OriginGroups") or {}).get("Items") or []}
    origins = api["Origins"].get("Items") or []
    if target in groups and origins:
        behaviour["TargetOriginId"] = origins[0]["Id"]
    try:
        yield target
    finally:
        behaviour["TargetOriginId"] = target


def _mark_access_controls(distribution: Distribution, config: dict[str, Any]) -> None:
    """moto's Origin keeps no OriginAccessControlId: it is set here, so GetDistribution shows it."""
    by_id = {o.get("Id"): o for o in config.get("Origins") or []}
    for origin in distribution.distribution_config.Origins["Items"]:
        origin.origin_access_control_id = by_id.get(origin.id, {}).get("OriginAccessControlId", "")


@dataclass(eq=False)
class DistributionResource(Made):
    """A distribution the stack made: its id (``Ref``, ``GetAtt Id``) and ``GetAtt DomainName``."""

    PHYSICAL_ID = "distribution_id"
    CFN_ATTRIBUTES = {"DomainName": "domain_name", "Id": "distribution_id"}
    account_id: str
    distribution_id: str

    @property
    def distribution(self) -> Distribution:
        return backend(self.account_id).distributions[self.distribution_id]

    @property
    def domain_name(self) -> str:
        return self.distribution.domain_name


class DistributionProvider(Provider):
    """AWS::CloudFront::Distribution: a moto Distribution, made and updated through moto's backend."""

    TYPE = "AWS::CloudFront::Distribution"
    ATTRIBUTES = DistributionResource

    def create(self, props: dict[str, Any], ctx: Context) -> DistributionResource:
        config = props["DistributionConfig"]
        api = api_distribution_config(config, caller_reference=f"{ctx.name}-{uuid.uuid4()}")
        tags = list(props.get("Tags") or [])
        with _origin_group_target(api) as target:
            distribution, _location, _etag = backend(ctx.account_id, ctx.region_name).create_distribution(
                api, tags
            )
        distribution.distribution_config.DefaultCacheBehavior.target_origin_id = target
        _mark_access_controls(distribution, config)
        return DistributionResource(ctx.account_id, distribution.distribution_id)

    def update(self, props: dict[str, Any], ctx: Context) -> DistributionResource:
        config = props["DistributionConfig"]
        current = ctx.current.distribution
        api = api_distribution_config(config, current.distribution_config.caller_reference)
        with _origin_group_target(api) as target:
            backend(ctx.account_id, ctx.region_name).update_distribution(
                api, current.distribution_id, if_match=True
            )
        current.distribution_config.DefaultCacheBehavior.target_origin_id = target
        _mark_access_controls(current, config)
        return ctx.current

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        backend(ctx.account_id, ctx.region_name).delete_distribution(ctx.name, if_match=True)


@dataclass(eq=False)
class OriginAccessControlResource(Made):
    """An origin access control the stack made: its id (``Ref``, ``GetAtt Id``)."""

    PHYSICAL_ID = "control_id"
    CFN_ATTRIBUTES = {"Id": "control_id"}
    account_id: str
    control_id: str


class OriginAccessControlProvider(Provider):
    """AWS::CloudFront::OriginAccessControl: moto's OriginAccessControl."""

    TYPE = "AWS::CloudFront::OriginAccessControl"
    ATTRIBUTES = OriginAccessControlResource

    def create(self, props: dict[str, Any], ctx: Context) -> OriginAccessControlResource:
        config = dict(props["OriginAccessControlConfig"])
        control = backend(ctx.account_id, ctx.region_name).create_origin_access_control(config)
        return OriginAccessControlResource(ctx.account_id, control.id)

    def update(self, props: dict[str, Any], ctx: Context) -> OriginAccessControlResource:
        config = dict(props["OriginAccessControlConfig"])
        backend(ctx.account_id, ctx.region_name).update_origin_access_control(ctx.current.control_id, config)
        return ctx.current

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        backend(ctx.account_id, ctx.region_name).delete_origin_access_control(ctx.name)


@dataclass(eq=False)
class PolicyResource(Made):
    """A cache or origin request policy the stack made: its id (``Ref``, ``GetAtt Id``)."""

    PHYSICAL_ID = "policy_id"
    CFN_ATTRIBUTES = {"Id": "policy_id"}
    account_id: str
    policy_id: str


class _PolicyProvider(Provider):
    """A cache or origin request policy, kept on the CloudFront backend under its id."""

    KIND = ""
    CONFIG = ""
    ATTRIBUTES = PolicyResource

    def _put(self, policy_id: str, props: dict[str, Any], ctx: Context) -> PolicyResource:
        config = copy.deepcopy(props[self.CONFIG])
        with _lock:
            policies(backend(ctx.account_id, ctx.region_name))[policy_id] = Policy(
                policy_id, self.KIND, config
            )
        return PolicyResource(ctx.account_id, policy_id)

    def create(self, props: dict[str, Any], ctx: Context) -> PolicyResource:
        return self._put(str(uuid.uuid4()), props, ctx)

    def update(self, props: dict[str, Any], ctx: Context) -> PolicyResource:
        return self._put(ctx.current.policy_id, props, ctx)

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        with _lock:
            policies(backend(ctx.account_id, ctx.region_name)).pop(ctx.name, None)


class CachePolicyProvider(_PolicyProvider):
    """AWS::CloudFront::CachePolicy: the cache key and TTLs the local CDN applies."""

    TYPE = "AWS::CloudFront::CachePolicy"
    KIND = "cache"
    CONFIG = "CachePolicyConfig"


class OriginRequestPolicyProvider(_PolicyProvider):
    """AWS::CloudFront::OriginRequestPolicy: what the local CDN forwards to the origins."""

    TYPE = "AWS::CloudFront::OriginRequestPolicy"
    KIND = "origin-request"
    CONFIG = "OriginRequestPolicyConfig"


PROVIDERS = (
    DistributionProvider,
    OriginAccessControlProvider,
    CachePolicyProvider,
    OriginRequestPolicyProvider,
)


def install_patches(patches: patching.Patches) -> None:
    """Let a cache behaviour target an origin group, as CloudFront does (through ``patches``, undone
    with them: localcloud.cloudformation's)."""
    original = DistributionConfig.__init__

    def __init__(self: DistributionConfig, config: dict[str, Any]) -> None:
        groups = {g.get("Id") for g in (config.get("OriginGroups") or {}).get("Items") or []}
        behaviour = config.get("DefaultCacheBehavior") or {}
        target = behaviour.get("TargetOriginId")
        origins = (config.get("Origins") or {}).get("Items") or []
        if target in groups and origins:
            first = origins[0]["Id"] if isinstance(origins[0], dict) else origins[0].id
            behaviour["TargetOriginId"] = first  # moto checks only the origins' ids
            try:
                original(self, config)
            finally:
                behaviour["TargetOriginId"] = target
            self.DefaultCacheBehavior.target_origin_id = target
            return
        original(self, config)

    patches.set(DistributionConfig, "__init__", __init__, expect="self, config")
