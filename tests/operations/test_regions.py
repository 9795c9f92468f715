"""operations.regions: botocore's partitions decide which region names are real."""

import pytest

from operations import regions
from operations.errors import ConfigError


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-west-3", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]
)
def test_known_regions_pass_everywhere(region: str) -> None:
    regions.check(region)
    regions.check(region, endpoint_url="http://127.0.0.1:4566")


@pytest.mark.parametrize("region", ["mars-1", "us-east", "useast1", "", "EU-WEST-1", "us-east-1 "])
def test_names_no_partition_has_are_refused_naming_them(region: str) -> None:
    with pytest.raises(ConfigError) as refused:
        regions.check(region)
    assert repr(region) in refused.value.message and "us-east-1" in refused.value.hint


def test_a_region_newer_than_botocore_goes_to_aws_but_not_to_another_endpoint() -> None:
    assert not regions.known("eu-mars-9") and regions.plausible("eu-mars-9")
    regions.check("eu-mars-9")  # AWS answers for it
    with pytest.raises(ConfigError):
        regions.check("eu-mars-9", endpoint_url="http://127.0.0.1:4566")


def test_the_local_cloud_reads_the_region_of_a_signed_request() -> None:
    from localcloud import region_guard

    header = {
        "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=localcloud/20261201/mars-1/lambda/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    }
    presigned = {"QUERY_STRING": "X-Amz-Credential=localcloud%2F20261201%2Feu-west-1%2Fs3%2Faws4_request&x=1"}
    assert region_guard.scope(header) == ("mars-1", "lambda")
    assert region_guard.scope(presigned) == ("eu-west-1", "s3")
    assert region_guard.refusal(presigned) is None
    status, headers, body = region_guard.refusal(header)
    assert status.startswith("403") and b"not 'mars-1'" in body
    assert ("x-amzn-ErrorType", "InvalidSignatureException") in headers
