"""What `resizer up` prints when the local cloud is ready: the CDN URL of the sample in cdn mode."""

from cli import render
from cli.commands.up import show_ready
from operations.local import Ready

BASE = "http://127.0.0.1:4566"


def printed(outputs: dict[str, str]) -> str:
    with render.out.capture() as captured:
        show_ready(Ready(BASE, "resizer", "us-east-1", outputs))
    return captured.get()


def test_cdn_mode_prints_the_cdn_url_of_the_sample_and_no_website():
    cdn = f"{BASE}/_aws/cloudfront/E2QWRUHEXAMPLE"
    text = printed(
        {"CdnUrl": cdn, "DistributionId": "E2QWRUHEXAMPLE", "ApiUrl": f"{BASE}/api", "BucketName": "b"}
    )
    lines = text.splitlines()
    assert f"resized   {cdn}/300x200/sample.jpg" in lines
    assert f"original  {cdn}/sample.jpg" in lines
    assert f"cdn       {cdn}" in lines
    assert not [line for line in lines if line.startswith("website")]


def test_website_mode_prints_the_website_urls():
    website = f"{BASE}/_aws/s3-website/b"
    text = printed({"WebsiteUrl": website, "ApiUrl": f"{BASE}/api", "BucketName": "b"})
    assert f"resized   {website}/300x200/sample.jpg" in text.splitlines()
    assert not [line for line in text.splitlines() if line.startswith("cdn")]
