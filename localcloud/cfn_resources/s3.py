"""S3 providers: AWS::S3::Bucket (moto's, with the properties its model ignores) and AWS::S3::BucketPolicy.

- AWS::S3::Bucket: WebsiteConfiguration (with RoutingRules), PublicAccessBlockConfiguration,
  OwnershipControls, VersioningConfiguration, NotificationConfiguration.EventBridgeConfiguration
  and LifecycleConfiguration (localcloud.s3_events), on create and update; a non-empty bucket is
  not deleted (BucketNotEmpty), as on AWS.
- AWS::S3::BucketPolicy (moto has no model): the bucket's policy document.
"""

import contextlib
import dataclasses
import json
from typing import Any
from xml.sax.saxutils import escape

from moto.s3.cloud_formation import cfn_to_api_encryption
from moto.s3.exceptions import BucketNotEmpty, MissingBucket
from moto.s3.models import FakeBucket

from localcloud import s3_events
from localcloud.cfn_resources import shared
from localcloud.cfn_resources.adapter import Context, Made, Provider, create_with_moto

S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"


def website_xml(config: dict[str, Any]) -> bytes:
    """The PutBucketWebsite body for a CloudFormation WebsiteConfiguration (what moto stores)."""

    def fields(values: dict[str, Any], names: tuple[str, ...]) -> str:
        return "".join(
            f"<{n}>{escape(shared.text(values[n]))}</{n}>" for n in names if values.get(n) not in (None, "")
        )

    parts = []
    if config.get("ErrorDocument"):
        parts.append(f"<ErrorDocument><Key>{escape(config['ErrorDocument'])}</Key></ErrorDocument>")
    if config.get("IndexDocument"):
        parts.append(f"<IndexDocument><Suffix>{escape(config['IndexDocument'])}</Suffix></IndexDocument>")
    if config.get("RedirectAllRequestsTo"):
        redirect = fields(config["RedirectAllRequestsTo"], ("HostName", "Protocol"))
        parts.append(f"<RedirectAllRequestsTo>{redirect}</RedirectAllRequestsTo>")
    if config.get("RoutingRules"):
        rules = []
        for rule in config["RoutingRules"]:
            condition = fields(
                rule.get("RoutingRuleCondition") or {}, ("HttpErrorCodeReturnedEquals", "KeyPrefixEquals")
            )
            redirect = fields(
                rule.get("RedirectRule") or {},
                ("HostName", "HttpRedirectCode", "Protocol", "ReplaceKeyPrefixWith", "ReplaceKeyWith"),
            )
            rules.append(
                "<RoutingRule>"
                + (f"<Condition>{condition}</Condition>" if condition else "")
                + f"<Redirect>{redirect}</Redirect></RoutingRule>"
            )
        parts.append(f"<RoutingRules>{''.join(rules)}</RoutingRules>")
    body = "".join(parts)
    return f'<WebsiteConfiguration xmlns="{S3_XMLNS}">{body}</WebsiteConfiguration>'.encode()


def _apply_bucket_properties(backend: Any, name: str, props: dict[str, Any]) -> None:
    """The bucket properties moto's model ignores; an absent one is removed, as on an update."""
    if "WebsiteConfiguration" in props:
        backend.put_bucket_website(name, website_xml(props["WebsiteConfiguration"]))
    else:
        backend.delete_bucket_website(name)
    if "PublicAccessBlockConfiguration" in props:
        backend.put_public_access_block(name, dict(props["PublicAccessBlockConfiguration"]))
    else:
        backend.delete_public_access_block(name)
    rules = (props.get("OwnershipControls") or {}).get("Rules") or []
    if rules:
        backend.put_bucket_ownership_controls(name, ownership=rules[0]["ObjectOwnership"])
    else:
        backend.delete_bucket_ownership_controls(name)
    status = (props.get("VersioningConfiguration") or {}).get("Status")
    if status:
        backend.put_bucket_versioning(name, status)
    s3_events.apply_bucket_properties(backend, name, props)  # EventBridge notifications, lifecycle


class BucketProvider(Provider):
    """AWS::S3::Bucket: moto's FakeBucket, with the properties its model ignores applied."""

    TYPE = "AWS::S3::Bucket"
    NAME_PROPERTY = "BucketName"
    ATTRIBUTES = FakeBucket

    def create(self, props: dict[str, Any], ctx: Context) -> FakeBucket:
        bucket = create_with_moto(FakeBucket, props, ctx)
        _apply_bucket_properties(shared.s3(ctx), bucket.name, props)
        return bucket

    def update(self, props: dict[str, Any], ctx: Context) -> FakeBucket:
        # Not moto's update: it deletes the old bucket of a replacement at once (ignoring
        # UpdateReplacePolicy), and reads BucketName even when it is absent.
        name = ctx.current.name
        if props.get("BucketName", name) != name:
            return self.create(props, ctx.named(props["BucketName"]))
        backend = shared.s3(ctx)
        if "BucketEncryption" in props:
            backend.put_bucket_encryption(name, cfn_to_api_encryption(props["BucketEncryption"]))
        else:
            backend.delete_bucket_encryption(name)
        backend.put_bucket_tagging(name, shared.tags(props.get("Tags")))
        _apply_bucket_properties(backend, name, props)
        return ctx.current

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        # moto's backend quietly keeps a non-empty bucket (its API layer raises); AWS fails.
        if shared.s3(ctx).delete_bucket(ctx.name) is None:
            raise BucketNotEmpty(ctx.name)


@dataclasses.dataclass(eq=False)
class BucketPolicy(Made):
    """A bucket policy the stack made: its name (the physical id) and its bucket."""

    PHYSICAL_ID = "name"
    name: str
    bucket: str


def _document(props: dict[str, Any]) -> bytes:
    document = props["PolicyDocument"]
    return (document if isinstance(document, str) else json.dumps(document)).encode()


class BucketPolicyProvider(Provider):
    """AWS::S3::BucketPolicy (moto has no model): the bucket's policy document."""

    TYPE = "AWS::S3::BucketPolicy"

    def create(self, props: dict[str, Any], ctx: Context) -> BucketPolicy:
        shared.s3(ctx).put_bucket_policy(props["Bucket"], _document(props))
        return BucketPolicy(ctx.name, props["Bucket"])

    def update(self, props: dict[str, Any], ctx: Context) -> BucketPolicy:
        if props["Bucket"] != ctx.current.bucket:  # another bucket: a replacement
            return self.create(props, ctx)
        shared.s3(ctx).put_bucket_policy(props["Bucket"], _document(props))
        return ctx.current

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        with contextlib.suppress(MissingBucket):  # the bucket went first: its policy went with it
            shared.s3(ctx).delete_bucket_policy(props["Bucket"])


PROVIDERS = (BucketProvider, BucketPolicyProvider)
