"""localcloud.cfn_resources.cloudfront: the cdn delivery of cloudformation/resizer.yaml in moto (in-process),
as CloudFront's API then shows it; switching delivery modes; the local CDN's cache rules."""

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud import cdn, s3_access
from localcloud.cloudformation import LocalUrls
from tests import stack_outputs
from tests.localcloud.test_cloudformation import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    artifact,
    change_set,
    outputs,
    resources,
)
from tests.localcloud.test_cloudformation import local_urls as local_urls  # a fixture

CDN = {"ArtifactBucket": ARTIFACTS, "ArtifactKey": "functions/one.zip"}


def test_the_default_delivery_creates_a_distribution_in_front_of_a_private_bucket(
    local_urls: LocalUrls,
    artifact: dict[str, str],  # noqa: F811
) -> None:
    described = change_set(CDN, "CREATE")
    assert described["StackStatus"] == "CREATE_COMPLETE"
    found = outputs(described)
    assert set(found) == stack_outputs.CDN
    distribution_id = found["DistributionId"]
    assert found["CdnUrl"] == f"http://127.0.0.1:4566/_aws/cloudfront/{distribution_id}"
    listed = resources()
    assert listed["Distribution"]["PhysicalResourceId"] == distribution_id

    cloudfront = boto3.client("cloudfront")
    distribution = cloudfront.get_distribution(Id=distribution_id)["Distribution"]
    config = distribution["DistributionConfig"]
    assert config["HttpVersion"] == "http2and3" and config["Enabled"] is True
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["TargetOriginId"] == "bucket-then-resizer"
    assert behaviour["Compress"] is False and behaviour["ViewerProtocolPolicy"] == "redirect-to-https"
    assert sorted(behaviour["AllowedMethods"]["Items"]) == ["GET", "HEAD"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    control_id = resources()["OriginAccessControl"]["PhysicalResourceId"]
    assert origins["images-bucket"]["OriginAccessControlId"] == control_id
    api_id = listed["RestApi"]["PhysicalResourceId"]
    assert origins["resizer-api"]["DomainName"] == f"{api_id}.execute-api.us-east-1.amazonaws.com"
    assert origins["resizer-api"]["OriginPath"] == "/prod"
    assert cloudfront.get_origin_access_control(Id=control_id)["OriginAccessControl"]["Id"] == control_id

    bucket = found["BucketName"]
    s3 = boto3.client("s3")
    assert set(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values()) == {True}
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"]
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"] == distribution["ARN"]
    variables = boto3.client("lambda").get_function_configuration(FunctionName="resizer-resize")
    assert variables["Environment"]["Variables"]["PUBLIC_URL"] == found["CdnUrl"]
    assert variables["Environment"]["Variables"]["DELIVERY"] == "cdn"


def test_switching_delivery_modes_is_an_update(
    local_urls: LocalUrls,
    artifact: dict[str, str],  # noqa: F811
) -> None:
    change_set(CDN, "CREATE")
    distribution_id = outputs(
        boto3.client("cloudformation").describe_stacks(StackName="resizer")["Stacks"][0]
    )["DistributionId"]
    website = outputs(change_set({**CDN, "Delivery": "website"}, "UPDATE"))
    assert set(website) == stack_outputs.WEBSITE
    assert boto3.client("cloudfront").list_distributions()["DistributionList"].get("Quantity", 0) == 0
    s3 = boto3.client("s3")
    (statement,) = json.loads(s3.get_bucket_policy(Bucket=website["BucketName"])["Policy"])["Statement"]
    assert statement["Principal"] == "*"
    assert s3.get_bucket_website(Bucket=website["BucketName"])["IndexDocument"] == {"Suffix": "index.html"}

    back = outputs(change_set(CDN, "UPDATE"))
    assert back["DistributionId"] != distribution_id and back["BucketName"] == website["BucketName"]
    assert set(
        s3.get_public_access_block(Bucket=back["BucketName"])["PublicAccessBlockConfiguration"].values()
    ) == {True}


def test_a_custom_domain_becomes_the_alias_and_the_cdn_url(
    local_urls: LocalUrls,
    artifact: dict[str, str],  # noqa: F811
) -> None:
    certificate = "arn:aws:acm:us-east-1:123456789012:certificate/0f0e-1234"
    found = outputs(
        change_set({**CDN, "DomainName": "images.example.com", "CertificateArn": certificate}, "CREATE")
    )
    config = boto3.client("cloudfront").get_distribution(Id=found["DistributionId"])["Distribution"][
        "DistributionConfig"
    ]
    assert config["Aliases"]["Items"] == ["images.example.com"]
    assert config["ViewerCertificate"]["ACMCertificateArn"] == certificate
    # https://images.example.com is this distribution: locally, its path on the local cloud.
    assert found["CdnUrl"] == f"http://127.0.0.1:4566/_aws/cloudfront/{found['DistributionId']}"


# -- the cache and the bucket policy, in isolation -------------------------------------------------------


def answer(cache_control: str | None, status: int = 200) -> cdn.Origin:
    headers = [("Cache-Control", cache_control)] if cache_control is not None else []
    return cdn.Origin(status, headers, b"x")


POLICY = {"MinTTL": 0, "DefaultTTL": 86400, "MaxTTL": 31536000}


@pytest.mark.parametrize(
    ("cache_control", "status", "ttl"),
    [
        ("public, max-age=31536000, immutable", 200, 31536000),
        ("public, max-age=60", 404, 60),
        ("max-age=60, s-maxage=5", 200, 5),
        ("no-store", 200, 0),
        ("private, max-age=600", 200, 0),
        ("no-cache", 200, 0),
        (None, 200, 86400),
        (None, 404, cdn.ERROR_CACHING_MIN_TTL),
        ("max-age=99999999999", 200, 31536000),
    ],
)
def test_ttl_follows_cache_control_within_the_policy(cache_control, status, ttl) -> None:
    assert cdn._ttl(answer(cache_control, status), POLICY) == ttl


def test_invalidation_paths() -> None:
    cache = cdn.Cache()
    for path in ("/300x200/a.jpg", "/300x200/b/c.jpg", "/64x/a.jpg", "/a%20b.jpg"):
        cache.put(("D", "GET", path, ()), cdn.Entry(200, [], b"x", 0.0, 100.0, path))
    cache.put(("OTHER", "GET", "/64x/a.jpg", ()), cdn.Entry(200, [], b"x", 0.0, 100.0, "/64x/a.jpg"))
    assert cache.invalidate("D", ["/300x200/*"]) == 2
    assert cache.invalidate("D", ["/a b.jpg"]) == 1
    assert cache.invalidate("D", ["/*"]) == 1
    assert [k[0] for k in cache.entries] == ["OTHER"]


class Bucket:
    def __init__(self, policy: dict | None, restrict: bool = False) -> None:
        self.name = "pics"
        self.policy = json.dumps(policy).encode() if policy else None
        self.public_access_block = type("Block", (), {"restrict_public_buckets": restrict})()
        self.keys = {"a.jpg": "object"}


DISTRIBUTION = "arn:aws:cloudfront::123456789012:distribution/E1"
ONLY_E1 = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::pics/*",
            "Condition": {"StringEquals": {"AWS:SourceArn": DISTRIBUTION}},
        }
    ]
}


def test_s3_answers_the_distribution_and_no_one_else() -> None:
    bucket = Bucket(ONLY_E1)
    e1 = s3_access.Reader("cloudfront.amazonaws.com", {"AWS:SourceArn": DISTRIBUTION})
    other = s3_access.Reader("cloudfront.amazonaws.com", {"AWS:SourceArn": DISTRIBUTION + "X"})
    assert s3_access.read(bucket, "a.jpg", e1).status == 200
    assert s3_access.read(bucket, "missing.jpg", e1).status == 403, "no ListBucket: 403, not 404"
    assert s3_access.read(bucket, "", e1).status == 403, "no listing"
    assert s3_access.read(bucket, "a.jpg", other).status == 403
    assert s3_access.read(bucket, "a.jpg", s3_access.Reader()).status == 403
    listing = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::pics",
        "Condition": {"StringEquals": {"AWS:SourceArn": DISTRIBUTION}},
    }
    with_list = Bucket({"Statement": [*ONLY_E1["Statement"], listing]})
    assert s3_access.read(with_list, "missing.jpg", e1).status == 404


def test_public_reads_and_block_public_access() -> None:
    public = {
        "Statement": [
            {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pics/*"}
        ]
    }
    assert s3_access.read(Bucket(public), "a.jpg", s3_access.Reader()).status == 200
    assert s3_access.read(Bucket(public, restrict=True), "a.jpg", s3_access.Reader()).status == 403
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::pics/*"}
    assert (
        s3_access.read(
            Bucket({"Statement": [*public["Statement"], deny]}), "a.jpg", s3_access.Reader()
        ).status
        == 403
    )
    unknown = {
        "Statement": [{**public["Statement"][0], "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4/32"}}}]
    }
    assert s3_access.read(Bucket(unknown), "a.jpg", s3_access.Reader()).status == 403, (
        "unread conditions grant nothing"
    )


def test_a_domain_without_its_certificate_is_refused_before_anything_is_created(
    local_urls: LocalUrls,
    artifact: dict[str, str],  # noqa: F811
) -> None:
    with pytest.raises(ClientError) as refused:
        change_set({**CDN, "DomainName": "images.example.com"}, "CREATE")
    assert refused.value.response["Error"]["Code"] == "ValidationError"
    assert "DomainName and CertificateArn go together" in refused.value.response["Error"]["Message"]
    assert boto3.client("cloudfront").list_distributions()["DistributionList"].get("Quantity", 0) == 0


def test_the_local_cdn_fails_over_to_the_api_without_the_viewer_host(
    local_urls: LocalUrls,
    artifact: dict[str, str],  # noqa: F811
) -> None:
    from werkzeug.test import Client
    from werkzeug.wrappers import Response

    from localcloud.cfn_resources import cloudfront as cfn_cloudfront

    found = outputs(change_set(CDN, "CREATE"))
    seen = []

    def api(request, raw):
        seen.append((raw, dict(request.headers), dict(request.args)))
        return Response(
            b"rendered", status=200, headers={"Cache-Control": "max-age=60", "Content-Type": "image/jpeg"}
        )

    door = cdn.Cdn(api)
    viewer = Client(door)
    base = f"/_aws/cloudfront/{found['DistributionId']}"
    reply = viewer.get(
        f"{base}/300x200/a.jpg?utm=1", headers={"Host": "localhost:4566", "Accept": "image/webp"}
    )
    assert (reply.status_code, reply.data, reply.headers["X-Cache"]) == (
        200,
        b"rendered",
        "Miss from cloudfront",
    )
    ((raw, headers, args),) = seen
    api_id = resources()["RestApi"]["PhysicalResourceId"]
    assert raw == f"{api_id}/prod/300x200/a.jpg", "the origin path is the stage"
    assert (
        headers["Host"] == f"{api_id}.execute-api.us-east-1.amazonaws.com"
        and headers["Accept"] == "image/webp"
    )
    assert args == {}, "query strings outside the cache policy are not forwarded"
    again = viewer.get(f"{base}/300x200/a.jpg?utm=2")
    assert again.headers["X-Cache"] == "Hit from cloudfront" and len(seen) == 1
    assert viewer.post(f"{base}/300x200/a.jpg").status_code == 403, "only GET and HEAD are allowed"

    # An origin request policy that forwarded the viewer's Host would break the API origin, as on AWS.
    cloudfront = cfn_cloudfront.backend("123456789012")
    policy_id = resources()["OriginRequestPolicy"]["PhysicalResourceId"]
    cfn_cloudfront.policies(cloudfront)[policy_id].config["HeadersConfig"] = {"HeaderBehavior": "allViewer"}
    refused = viewer.get(f"{base}/64x/a.jpg", headers={"Host": "localhost:4566"})
    assert refused.status_code == 403 and refused.json == {"message": "Forbidden"} and len(seen) == 1
