"""An unexpected exception anywhere in the local cloud is answered in the AWS shape of the request,
with a request id, and logged with its traceback; never werkzeug's or Flask's HTML page."""

import logging

import pytest
from werkzeug.test import Client

from localcloud import cloudformation, frontdoor, log_filter, metrics, server

SIGNED_S3 = {"Authorization": "AWS4-HMAC-SHA256 Credential=localcloud/20260101/us-east-1/s3/aws4_request, x"}
SIGNED_LAMBDA = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=localcloud/20260101/us-east-1/lambda/aws4_request, x"
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    from moto.awslambda.models import LambdaFunction

    plain_invoke = LambdaFunction.invoke
    built = server.build("http://127.0.0.1:4566", tmp_path_factory.mktemp("errors"))
    built.store.load()
    built.store.start()
    yield built
    built.runtime.shutdown()
    built.store.close()
    for patched in (cloudformation, metrics, log_filter):  # the rest of the suite expects plain moto
        patched.uninstall()
    LambdaFunction.invoke = plain_invoke


def broken(*_args, **_kwargs):
    raise RuntimeError("a bug")


def test_a_bug_in_the_website_is_an_xml_500_with_a_request_id_and_a_logged_traceback(
    cloud, monkeypatch, caplog
):
    monkeypatch.setattr(frontdoor.FrontDoor, "website", broken)
    with caplog.at_level(logging.ERROR, logger="localcloud"):
        reply = Client(cloud.app).get("/_aws/s3-website/any-bucket/photo.jpg", headers={"Host": "127.0.0.1"})
    assert reply.status_code == 500 and reply.headers["Content-Type"] == "application/xml"
    assert b"<Code>InternalError</Code>" in reply.data and b"<RequestId>" in reply.data
    assert b"<html" not in reply.data.lower()
    assert any("RuntimeError: a bug" in (r.exc_text or "") for r in caplog.records)


def test_a_bug_inside_moto_s3_is_an_s3_xml_500(cloud, monkeypatch):
    from moto.s3.responses import S3Response

    monkeypatch.setattr(S3Response, "list_objects", broken, raising=False)
    monkeypatch.setattr(S3Response, "_bucket_response_get", broken, raising=False)
    monkeypatch.setattr(S3Response, "get_bucket", broken, raising=False)
    reply = Client(cloud.app).get("/any-bucket", headers={"Host": "127.0.0.1", **SIGNED_S3})
    assert reply.status_code == 500, reply.data[:300]
    assert b"<Code>InternalError</Code>" in reply.data and b"<html" not in reply.data.lower()


def test_a_bug_inside_moto_lambda_is_a_json_500(cloud, monkeypatch):
    from moto.awslambda.responses import LambdaResponse

    monkeypatch.setattr(LambdaResponse, "list_functions", broken)
    reply = Client(cloud.app).get("/2015-03-31/functions/", headers={"Host": "127.0.0.1", **SIGNED_LAMBDA})
    assert reply.status_code == 500, reply.data[:300]
    assert reply.json["__type"] == "InternalFailure" and reply.headers["x-amzn-RequestId"]
