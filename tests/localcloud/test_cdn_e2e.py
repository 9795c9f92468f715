"""End to end, the cdn delivery (the default) against a real local-cloud server process: the same
template, zip and boto3 calls as on AWS; images requested through the local CloudFront.

The tests share one cloud and run in file order.
"""

import io
import json
import os
import random
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError
from PIL import Image

from localcloud.process import free_port
from localcloud.process import running as local_cloud
from operations import local
from operations.aws import Clients
from resizer_function.signing import sign
from tests import stack_outputs

SIGNING_KEY = "cdn-e2e-signing-key"


@dataclass
class Cloud:
    ready: local.Ready
    signed: local.Ready  # a second stack, with a SigningKey

    @property
    def cdn(self) -> str:
        return self.ready.outputs["CdnUrl"]

    def client(self, service: str) -> Any:
        return Clients.for_local_cloud(self.ready.endpoint_url).client(service, retries=False)

    def invocations(self, ready: local.Ready | None = None) -> int:
        """How many times the stack's function has run (its REPORT lines)."""
        logs, found, token = self.client("logs"), 0, None
        while True:
            page = logs.filter_log_events(
                logGroupName=(ready or self.ready).outputs["LogGroupName"],
                filterPattern="REPORT",
                **({"nextToken": token} if token else {}),
            )
            found += sum(e["message"].startswith("REPORT") for e in page["events"])
            token = page.get("nextToken")
            if not token:
                return found


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    os.environ["RESIZER_CACHE_DIR"] = str(tmp_path_factory.mktemp("cdn-cache"))
    with local_cloud(tmp_path_factory.mktemp("cdn-local"), free_port()) as url:
        ready = [e for e in local.provision(url, sleep=lambda s: None) if isinstance(e, local.Ready)][-1]
        signed = [
            e
            for e in local.provision(
                url, stack_name="signed", parameters={"SigningKey": SIGNING_KEY}, sleep=lambda s: None
            )
            if isinstance(e, local.Ready)
        ][-1]
        yield Cloud(ready, signed)


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url: str, method: str = "GET") -> tuple[int, Any, bytes]:
    """One round trip, redirects not followed: status, headers, body."""
    opener = urllib.request.build_opener(NoRedirects())
    try:
        with opener.open(urllib.request.Request(url, method=method), timeout=120) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_the_outputs_are_the_cdn_contract(cloud):
    outputs = cloud.ready.outputs
    assert set(outputs) == stack_outputs.CDN
    assert outputs["CdnUrl"] == f"{cloud.ready.endpoint_url}/_aws/cloudfront/{outputs['DistributionId']}"
    assert cloud.ready.resized_url == f"{outputs['CdnUrl']}/300x200/sample.jpg"
    cloudfront = cloud.client("cloudfront")
    distribution = cloudfront.get_distribution(Id=outputs["DistributionId"])["Distribution"]
    config = distribution["DistributionConfig"]
    assert distribution["DomainName"].endswith(".cloudfront.net")
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    assert config["OriginGroups"]["Items"][0]["FailoverCriteria"]["StatusCodes"]["Items"] == [403]
    (s3_origin,) = [o for o in config["Origins"]["Items"] if o["Id"] == "images-bucket"]
    assert s3_origin["DomainName"] == f"{outputs['BucketName']}.s3.us-east-1.amazonaws.com"
    control = cloudfront.get_origin_access_control(Id=s3_origin["OriginAccessControlId"])
    assert control["OriginAccessControl"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    function = cloud.client("lambda").get_function_configuration(FunctionName=outputs["FunctionName"])
    assert function["Environment"]["Variables"]["PUBLIC_URL"] == outputs["CdnUrl"]
    assert function["Environment"]["Variables"]["DELIVERY"] == "cdn"


def test_the_bucket_refuses_anonymous_reads(cloud):
    bucket = cloud.ready.outputs["BucketName"]
    status, _, body = get(f"{cloud.ready.endpoint_url}/{bucket}/sample.jpg")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    status, _, body = get(f"{cloud.ready.endpoint_url}/{bucket}/no-such-key.jpg")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body, "no ListBucket: a missing key is 403 too"
    anonymous = boto3.client(
        "s3",
        endpoint_url=cloud.ready.endpoint_url,
        region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )
    with pytest.raises(ClientError) as refused:
        anonymous.get_object(Bucket=bucket, Key="sample.jpg")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    s3 = cloud.client("s3")
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == dict.fromkeys(block, True) and len(block) == 4
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Condition"]["StringEquals"]["AWS:SourceArn"].endswith(
        f":distribution/{cloud.ready.outputs['DistributionId']}"
    )
    with pytest.raises(ClientError):
        s3.get_bucket_website(Bucket=bucket)  # no website endpoint in cdn mode
    assert get(f"{cloud.ready.endpoint_url}/_aws/s3-website/{bucket}/sample.jpg")[0] == 404


def test_a_miss_is_the_image_in_one_round_trip_then_a_cache_hit(cloud):
    before = cloud.invocations()
    status, headers, body = get(f"{cloud.cdn}/300x200/sample.jpg")
    assert status == 200, body[:200]
    assert headers["X-Cache"] == "Miss from cloudfront" and headers["Content-Type"] == "image/jpeg"
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert Image.open(io.BytesIO(body)).size == (300, 200)
    assert cloud.invocations() == before + 1
    stored = cloud.client("s3").get_object(Bucket=cloud.ready.outputs["BucketName"], Key="300x200/sample.jpg")
    assert stored["Body"].read() == body, "what the CDN cached is what S3 serves next"

    status, headers, again = get(f"{cloud.cdn}/300x200/sample.jpg")
    assert (status, headers["X-Cache"], again) == (200, "Hit from cloudfront", body)
    assert int(headers["Age"]) >= 0
    assert cloud.invocations() == before + 1
    status, headers, empty = get(f"{cloud.cdn}/300x200/sample.jpg", method="HEAD")
    assert status == 200 and empty == b"" and int(headers["Content-Length"]) == len(body)


def test_after_an_invalidation_the_image_comes_from_s3_not_the_function(cloud):
    cloudfront = cloud.client("cloudfront")
    distribution = cloud.ready.outputs["DistributionId"]
    get(f"{cloud.cdn}/300x200/sample.jpg")  # cached (an earlier test rendered it)
    before = cloud.invocations()
    created = cloudfront.create_invalidation(
        DistributionId=distribution,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/300x200/*"]}, "CallerReference": "e2e-1"},
    )["Invalidation"]
    listed = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"]["Items"]
    assert created["Id"] in [i["Id"] for i in listed]
    found = cloudfront.get_invalidation(DistributionId=distribution, Id=created["Id"])["Invalidation"]
    assert found["InvalidationBatch"]["Paths"]["Items"] == ["/300x200/*"]
    assert created["Status"] == found["Status"] == "Completed", (
        "evicted by the time CreateInvalidation returns"
    )

    status, headers, body = get(f"{cloud.cdn}/300x200/sample.jpg")
    assert (status, headers["X-Cache"]) == (200, "Miss from cloudfront")
    assert Image.open(io.BytesIO(body)).size == (300, 200)
    assert cloud.invocations() == before, "the object was in S3: the function did not run"
    assert get(f"{cloud.cdn}/300x200/sample.jpg")[1]["X-Cache"] == "Hit from cloudfront"


def test_an_invalidation_evicts_only_the_paths_it_names(cloud):
    get(f"{cloud.cdn}/64x/sample.jpg")
    get(f"{cloud.cdn}/sample.jpg")
    cloud.client("cloudfront").create_invalidation(
        DistributionId=cloud.ready.outputs["DistributionId"],
        InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": ["/64x/sample.jpg"]},
            "CallerReference": "e2e-2",
        },
    )
    assert get(f"{cloud.cdn}/64x/sample.jpg")[1]["X-Cache"] == "Miss from cloudfront"
    assert get(f"{cloud.cdn}/sample.jpg")[1]["X-Cache"] == "Hit from cloudfront"


def test_a_missing_original_is_a_404_cached_briefly(cloud):
    before = cloud.invocations()
    status, headers, body = get(f"{cloud.cdn}/300x200/nothing.jpg")
    assert status == 404 and json.loads(body)["error"] == "not_found"
    assert headers["Cache-Control"] == "public, max-age=60"
    assert headers["X-Cache"] == "Error from cloudfront"
    assert get(f"{cloud.cdn}/300x200/nothing.jpg")[0] == 404
    assert cloud.invocations() == before + 1, "the 404 is cached (60 s), not rendered again"


def test_concurrent_first_requests_for_one_url_make_one_origin_fetch(cloud):
    before = cloud.invocations()
    url = f"{cloud.cdn}/150x150,webp/sample.jpg"
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: get(url), range(24)))
    assert {status for status, _, _ in results} == {200}
    assert len({body for _, _, body in results}) == 1
    assert cloud.invocations() == before + 1, "collapsed into one origin request, as CloudFront does"


def test_an_output_over_the_response_limit_is_a_307_to_the_same_url_then_200(cloud):
    rng = random.Random(9)
    noise = Image.frombytes("RGB", (1100, 1100), rng.randbytes(1100 * 1100 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG", compress_level=1)
    cloud.client("s3").put_object(
        Bucket=cloud.ready.outputs["BucketName"],
        Key="noise.png",
        Body=buffer.getvalue(),
        ContentType="image/png",
    )
    url = f"{cloud.cdn}/1500x1500/noise.png"
    status, headers, _ = get(url)
    assert status == 307 and headers["Location"] == url
    assert headers["Cache-Control"] == "no-store"
    status, headers, body = get(url)
    assert status == 200 and headers["X-Cache"] == "Miss from cloudfront", "the 307 was not cached"
    assert len(body) > 6 * 1024 * 1024 * 3 // 4 and Image.open(io.BytesIO(body)).size == (1500, 1500)


def test_signed_urls_through_the_cdn(cloud):
    cdn = cloud.signed.outputs["CdnUrl"]
    status, headers, body = get(f"{cdn}/300x200/sample.jpg")
    assert status == 403 and json.loads(body)["error"] == "signature_required"
    query = sign("/300x200/sample.jpg", SIGNING_KEY, expires=4102444800)
    status, headers, body = get(f"{cdn}/300x200/sample.jpg?{query}")
    assert status == 200 and headers["X-Cache"] == "Miss from cloudfront"
    assert Image.open(io.BytesIO(body)).size == (300, 200)
    assert get(f"{cdn}/300x200/sample.jpg?{query}")[1]["X-Cache"] == "Hit from cloudfront"
    assert get(f"{cdn}/300x200/sample.jpg?{query}&utm=1")[1]["X-Cache"] == "Hit from cloudfront", (
        "only sig and expires are in the cache key"
    )
    status, _, body = get(f"{cdn}/64x64/sample.jpg?sig=0000")
    assert status == 403 and json.loads(body)["error"] == "invalid_signature"
    status, _, body = get(f"{cdn}/300x200/sample.jpg?sig=0000")
    assert status == 200, "a stored object is served by S3 whatever the signature, as the website does"
