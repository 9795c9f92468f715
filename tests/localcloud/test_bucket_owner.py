"""The local cloud refuses, as S3 does, a request whose ExpectedBucketOwner is not the bucket's owner."""

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud import process
from operations.aws import LOCAL_CREDENTIALS


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    with process.running(tmp_path_factory.mktemp("owner-cloud")) as url:
        yield boto3.client("s3", endpoint_url=url, region_name="us-east-1", **LOCAL_CREDENTIALS)


def test_the_owner_is_served_and_any_other_expected_owner_gets_403(s3) -> None:
    s3.create_bucket(Bucket="owned")
    s3.put_object(Bucket="owned", Key="k", Body=b"x", ExpectedBucketOwner="123456789012")
    assert (
        s3.head_bucket(Bucket="owned", ExpectedBucketOwner="123456789012")["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 200
    )

    for call in (
        lambda: s3.head_bucket(Bucket="owned", ExpectedBucketOwner="111122223333"),
        lambda: s3.get_object(Bucket="owned", Key="k", ExpectedBucketOwner="111122223333"),
        lambda: s3.put_object(Bucket="owned", Key="k", Body=b"y", ExpectedBucketOwner="111122223333"),
    ):
        with pytest.raises(ClientError) as raised:
            call()
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert s3.get_object(Bucket="owned", Key="k")["Body"].read() == b"x"  # the refused PUT wrote nothing
