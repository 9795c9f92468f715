"""Images: upload (checked here and by operations.images), purge, delete, download."""

from urllib.parse import quote

import boto3

from tests.console.conftest import Browser, png


def keys(bucket: str) -> set[str]:
    listed = boto3.client("s3", region_name="us-east-1").list_objects_v2(Bucket=bucket)
    return {o["Key"] for o in listed.get("Contents", [])}


def test_upload_a_png(browser: Browser, cloud) -> None:
    body = png(12, 9)
    reply = browser.post(
        "/images/upload", files={"file": ("dog.png", body, "image/png")}, data={"key": "up/dog.png"}
    )
    assert reply.status_code == 200, reply.text
    data = reply.json()
    shown = {k: data[k] for k in ("key", "size", "bucket", "replaced", "derived", "invalidation")}
    assert shown == {
        "key": "up/dog.png",
        "size": len(body),
        "bucket": cloud.bucket,
        "replaced": False,
        "derived": [],
        "invalidation": None,
    }
    stored = boto3.client("s3", region_name="us-east-1").get_object(Bucket=cloud.bucket, Key="up/dog.png")
    assert stored["ContentType"] == "image/png" and stored["Body"].read() == body
    again = browser.post("/images/upload", files={"file": ("dog.png", body)}, data={"key": "up/dog.png"})
    assert again.status_code == 409 and "Replace" in again.json()["message"]
    replaced = browser.post(
        "/images/upload",
        files={"file": ("dog.png", png(3, 3))},
        data={"key": "up/dog.png", "overwrite": "true"},
    )
    assert replaced.status_code == 200


def test_a_form_upload_redirects_to_the_listing(browser: Browser) -> None:
    reply = browser.post("/images/upload", files={"file": ("form cat.png", png())}, html=True)
    assert reply.status_code == 303 and reply.headers["location"] == "/images?uploaded=form%20cat.png"
    assert "Uploaded form cat.png." in browser.page(reply.headers["location"]).text


def test_a_text_file_is_refused_with_a_message(browser: Browser, cloud) -> None:
    reply = browser.post("/images/upload", files={"file": ("notes.txt", b"hello", "text/plain")})
    assert reply.status_code == 400
    assert "not a JPEG, PNG, WebP, GIF, TIFF, BMP" in reply.json()["message"]
    page = browser.post("/images/upload", files={"file": ("notes.txt", b"hello")}, html=True)
    assert page.status_code == 400 and "not a JPEG, PNG, WebP, GIF, TIFF, BMP" in page.text
    assert "notes.txt" not in keys(cloud.bucket)


def test_a_derived_namespace_key_is_refused(browser: Browser, cloud) -> None:
    reply = browser.post("/images/upload", files={"file": ("x.png", png())}, data={"key": "300x200/x.png"})
    assert reply.status_code == 400 and "resized namespace" in reply.json()["message"]
    assert "300x200/x.png" not in keys(cloud.bucket)


def test_the_upload_limit_is_the_consoles(cloud, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from console.app import create_app
    from tests.console.conftest import settings_for

    with TestClient(create_app(settings_for(cloud, max_upload_bytes=100))) as client:
        browser = Browser(client).login()
        reply = browser.post(
            "/images/upload", files={"file": ("big.png", png(64, 64, (1, 2, 3)) + b"\0" * 200)}
        )
        assert reply.status_code == 400 and "limit" in reply.json()["message"]
        page = browser.page("/images")
        assert 'data-max-bytes="100"' in page.text  # the same limit for the client-side check


def test_purge_a_derived_size_and_never_an_original(browser: Browser, cloud) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    for key in ("50x50/photos/cat.png", "50x50/photos/other.png", "50x50,webp/photos/cat.png"):
        s3.put_object(Bucket=cloud.bucket, Key=key, Body=png())
    reply = browser.post("/images/purge", {"spec": "50x50"}, html=True)
    # (in cdn delivery the location also names the CDN invalidation: tests/console/test_images_cdn.py)
    assert reply.status_code == 303 and reply.headers["location"].startswith("/images?purged=50x50&count=2")
    remaining = keys(cloud.bucket)
    assert "50x50/photos/cat.png" not in remaining and "50x50,webp/photos/cat.png" in remaining
    assert "photos/cat.png" in remaining
    assert "Purged 2 object(s) of size 50x50" in browser.page(reply.headers["location"]).text
    refused = browser.post("/images/purge", {"spec": "50X50"})
    assert refused.status_code == 400 and "50x50" in refused.json()["hint"]


def test_delete_an_object(browser: Browser, cloud) -> None:
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=cloud.bucket, Key="gone/soon.png", Body=png()
    )
    reply = browser.post("/images/delete", {"key": "gone/soon.png"})
    assert reply.status_code == 200
    assert reply.json()["deleted"] == "gone/soon.png" and reply.json()["derived"] == []
    assert "gone/soon.png" not in keys(cloud.bucket)
    missing = browser.post("/images/delete", {"key": "gone/soon.png"})
    assert missing.status_code == 404


def test_download_and_the_image_proxy(browser: Browser, cloud) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.put_object(
        Bucket=cloud.bucket, Key="odd/page.html", Body=b"<script>alert(1)</script>", ContentType="text/html"
    )
    inline = browser.client.get(f"/images/object?key={quote('300x200/photos/cat.png', safe='')}")
    assert inline.status_code == 200 and inline.headers["content-type"] == "image/png"
    assert inline.headers["content-disposition"].startswith("inline")
    assert "sandbox" in inline.headers["content-security-policy"]
    hostile = browser.client.get("/images/object?key=odd/page.html")
    assert hostile.headers["content-type"] == "application/octet-stream"
    assert hostile.headers["content-disposition"].startswith("attachment")
    download = browser.client.get("/images/object?key=photos/cat.png&download=true")
    assert download.headers["content-disposition"].startswith("attachment") and download.content == png()
    assert browser.client.get("/images/object?key=nope.png").status_code == 404


def test_api_images_lists_like_the_cli(browser: Browser, cloud) -> None:
    data = browser.client.get("/api/images?kind=derived").json()
    assert data["bucket"] == cloud.bucket
    assert all(i["derived"] for i in data["images"]) and any(i["spec"] == "300x200" for i in data["images"])
