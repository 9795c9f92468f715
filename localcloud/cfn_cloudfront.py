"""CloudFormation models for CloudFront (moto has the API but no models): distributions and their policies.

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

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudfront.models import Distribution, DistributionConfig, cloudfront_backends
from moto.core.common_models import CloudFormationModel
from moto.utilities.utils import get_partition

from localcloud import patching

_patches = patching.Patches("cloudfront models")
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


def _props(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    return cloudformation_json.get("Properties") or {}


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


class _Defaults:
    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    def is_created(self) -> bool:
        return True


class DistributionResource(_Defaults, CloudFormationModel):
    """AWS::CloudFront::Distribution: a moto Distribution, made and updated through moto's backend."""

    def __init__(self, account_id: str, distribution_id: str) -> None:
        self.account_id = account_id
        self.distribution_id = distribution_id

    @property
    def physical_resource_id(self) -> str:
        return self.distribution_id

    @property
    def distribution(self) -> Distribution:
        return backend(self.account_id).distributions[self.distribution_id]

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::Distribution"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("DomainName", "Id")

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "DomainName":
            return self.distribution.domain_name
        if attribute_name == "Id":
            return self.distribution_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "DistributionResource":
        config = _props(cloudformation_json)["DistributionConfig"]
        api = api_distribution_config(config, caller_reference=f"{resource_name}-{uuid.uuid4()}")
        tags = list(_props(cloudformation_json).get("Tags") or [])
        with _origin_group_target(api) as target:
            distribution, _location, _etag = backend(account_id, region_name).create_distribution(api, tags)
        distribution.distribution_config.DefaultCacheBehavior.target_origin_id = target
        _mark_access_controls(distribution, config)
        return cls(account_id, distribution.distribution_id)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: "DistributionResource",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "DistributionResource":
        config = _props(cloudformation_json)["DistributionConfig"]
        current = original_resource.distribution
        api = api_distribution_config(config, current.distribution_config.caller_reference)
        with _origin_group_target(api) as target:
            backend(account_id, region_name).update_distribution(api, current.distribution_id, if_match=True)
        current.distribution_config.DefaultCacheBehavior.target_origin_id = target
        _mark_access_controls(current, config)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend(account_id, region_name).delete_distribution(resource_name, if_match=True)


class OriginAccessControlResource(_Defaults, CloudFormationModel):
    """AWS::CloudFront::OriginAccessControl: moto's OriginAccessControl."""

    def __init__(self, account_id: str, control_id: str) -> None:
        self.account_id = account_id
        self.control_id = control_id

    @property
    def physical_resource_id(self) -> str:
        return self.control_id

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::OriginAccessControl"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Id":
            return self.control_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "OriginAccessControlResource":
        config = dict(_props(cloudformation_json)["OriginAccessControlConfig"])
        control = backend(account_id, region_name).create_origin_access_control(config)
        return cls(account_id, control.id)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: "OriginAccessControlResource",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "OriginAccessControlResource":
        config = dict(_props(cloudformation_json)["OriginAccessControlConfig"])
        backend(account_id, region_name).update_origin_access_control(original_resource.control_id, config)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        backend(account_id, region_name).delete_origin_access_control(resource_name)


class _PolicyResource(_Defaults):
    """A cache or origin request policy, kept on the CloudFront backend under its id."""

    KIND = ""
    CONFIG = ""

    def __init__(self, account_id: str, policy_id: str) -> None:
        self.account_id = account_id
        self.policy_id = policy_id

    @property
    def physical_resource_id(self) -> str:
        return self.policy_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Id":
            return self.policy_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def _put(cls, policy_id: str, cloudformation_json: dict[str, Any], account_id: str, region: str) -> Any:
        config = copy.deepcopy(_props(cloudformation_json)[cls.CONFIG])
        with _lock:
            policies(backend(account_id, region))[policy_id] = Policy(policy_id, cls.KIND, config)
        return cls(account_id, policy_id)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        return cls._put(str(uuid.uuid4()), cloudformation_json, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        return cls._put(original_resource.policy_id, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        with _lock:
            policies(backend(account_id, region_name)).pop(resource_name, None)


class CachePolicyResource(_PolicyResource, CloudFormationModel):
    """AWS::CloudFront::CachePolicy: the cache key and TTLs the local CDN applies."""

    KIND = "cache"
    CONFIG = "CachePolicyConfig"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::CachePolicy"


class OriginRequestPolicyResource(_PolicyResource, CloudFormationModel):
    """AWS::CloudFront::OriginRequestPolicy: what the local CDN forwards to the origins."""

    KIND = "origin-request"
    CONFIG = "OriginRequestPolicyConfig"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudFront::OriginRequestPolicy"


#: The models this module registers, one per type (checked by localcloud.cloudformation.install).
MODELS: tuple[type[CloudFormationModel], ...] = (
    DistributionResource,
    OriginAccessControlResource,
    CachePolicyResource,
    OriginRequestPolicyResource,
)


def install_patches() -> None:
    """Let a cache behaviour target an origin group, as CloudFront does (idempotent)."""
    if _patches.active:
        return
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

    _patches.set(DistributionConfig, "__init__", __init__, expect="self, config")


def uninstall_patches() -> None:
    _patches.undo()
