"""The console in cdn delivery (a real moto CloudFront distribution and a stack with the contract's
outputs): the Overview's delivery card and invalidate form, /api/cdn, image links through the CDN,
invalidations shown after delete/purge/replace; and, in any delivery, originals grouped with
their derived sizes a page at a time, console-made thumbnails, stale derived images."""

import io
import re
import time
from collections.abc import Iterator
from itertools import count
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from console import workspace as workspace_module
from console.app import create_app
from operations.aws import Clients
from tests.conftest import png_declaring
from tests.console.conftest import REGION, Browser, png, settings_for
from tests.operations import cdn_world

NAMES = count()


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def keys(bucket: str) -> set[str]:
    pages = s3().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def put(bucket: str, key: str, body: bytes, etag_of: str = "") -> str:
    metadata = {}
    if etag_of:
        metadata = {"source-etag": s3().head_object(Bucket=bucket, Key=etag_of)["ETag"].strip('"')}
    s3().put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/png", Metadata=metadata)
    return key


class World:
    """A stack of its own (cdn or website delivery) and a logged-in console on it."""

    def __init__(self, browser: Browser, stack: str, bucket: str, outputs: dict[str, str]) -> None:
        self.browser, self.stack, self.bucket, self.outputs = browser, stack, bucket, outputs

    @property
    def distribution(self) -> str:
        return self.outputs.get("DistributionId", "")

    def invalidations(self) -> list[list[str]]:
        cloudfront = boto3.client("cloudfront", region_name=REGION)
        items = cloudfront.list_invalidations(DistributionId=self.distribution)["InvalidationList"]
        found = []
        for item in sorted(items.get("Items", []) or [], key=lambda i: i["CreateTime"]):
            got = cloudfront.get_invalidation(DistributionId=self.distribution, Id=item["Id"])
            found.append(got["Invalidation"]["InvalidationBatch"]["Paths"]["Items"])
        return found


def world_of(cloud, tmp_path, mode: str) -> Iterator[World]:
    name = f"console-{mode}-{next(NAMES)}"
    clients = Clients(boto3.Session(region_name=REGION))
    cdn_world.stack(clients, mode, name=name)
    described = clients.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    app = create_app(settings_for(cloud, stack=name, events_dir=tmp_path / "events"))
    with TestClient(app) as client:
        yield World(Browser(client).login(), name, outputs["BucketName"], outputs)


@pytest.fixture
def cdn_mode(cloud, tmp_path) -> Iterator[World]:
    yield from world_of(cloud, tmp_path, "cdn")


@pytest.fixture
def website_mode(cloud, tmp_path) -> Iterator[World]:
    yield from world_of(cloud, tmp_path, "website")


# --- the Overview and /api/cdn ---------------------------------------------------------------------


def test_overview_shows_the_cdn_and_invalidates(cdn_mode: World) -> None:
    browser, cdn_url = cdn_mode.browser, cdn_mode.outputs["CdnUrl"]
    html = browser.page("/").text
    assert 'id="cdn"' in html and f'<a href="{cdn_url}/"' in html
    assert cdn_mode.distribution in html and "Recent invalidations" in html and "None yet." in html
    assert 'action="/cdn/invalidate"' in html

    reply = browser.post("/cdn/invalidate", {"paths": "/300x200/cat.jpg\n/albums/été 1.jpg\n"})
    assert reply.status_code == 200, reply.text
    created = reply.json()["invalidation"]
    assert created["paths"] == ["/300x200/cat.jpg", "/albums/%C3%A9t%C3%A9%201.jpg"]

    form = browser.post("/cdn/invalidate", {"paths": "/300x200/*"}, html=True)
    assert form.status_code == 303 and form.headers["location"].startswith("/?invalidation=")
    shown = browser.page(form.headers["location"]).text
    assert "CDN invalidation <code>" in shown and "/300x200/*" in shown
    assert cdn_mode.invalidations() == [created["paths"], ["/300x200/*"]]

    status = browser.client.get("/api/cdn").json()
    assert status["id"] == cdn_mode.distribution and status["cdn_url"] == cdn_url
    assert len(status["invalidations"]) == 2
    delivery = browser.client.get("/api/status").json()["delivery"]
    assert (delivery["mode"], delivery["cdn_url"]) == ("cdn", cdn_url)


def test_invalidate_refusals(cdn_mode: World) -> None:
    bad = cdn_mode.browser.post("/cdn/invalidate", {"paths": "/a*b.jpg"})
    assert bad.status_code == 400 and "only allowed at the end" in bad.json()["message"]
    empty = cdn_mode.browser.post("/cdn/invalidate", {"paths": "  \n "})
    assert empty.status_code == 400
    assert cdn_mode.invalidations() == []


def test_website_mode_has_no_cdn(website_mode: World) -> None:
    html = website_mode.browser.page("/").text
    assert 'id="cdn"' in html and "the bucket's website, http only" in html
    assert 'action="/cdn/invalidate"' not in html
    for reply in (
        website_mode.browser.client.get("/api/cdn"),
        website_mode.browser.post("/cdn/invalidate", {"paths": "/cat.jpg"}),
    ):
        assert reply.status_code == 400 and "Delivery=website" in reply.json()["message"]


def test_the_csp_admits_the_cdn_for_images(cdn_mode: World) -> None:
    reply = cdn_mode.browser.page("/images")
    origin = "/".join(cdn_mode.outputs["CdnUrl"].split("/")[:3])
    assert origin in reply.headers["content-security-policy"]


# --- the Images page -------------------------------------------------------------------------------


def test_originals_are_grouped_with_their_derived_sizes_and_links_use_the_cdn(cdn_mode: World) -> None:
    bucket, cdn_url = cdn_mode.bucket, cdn_mode.outputs["CdnUrl"]
    put(bucket, "albums/cat b.png", png(40, 30))
    put(bucket, "300x200/albums/cat b.png", png(30, 20), etag_of="albums/cat b.png")
    put(bucket, "x60,webp/albums/cat b.png", png(8, 6), etag_of="albums/cat b.png")
    time.sleep(1.1)  # S3 times have a resolution of a second
    put(bucket, "dog.png", png(20, 20))
    before = keys(bucket)

    html = cdn_mode.browser.page("/images").text

    html = html[html.index("<h2>Originals</h2>") :]
    assert html.count('<li class="tile group">') == 2
    assert html.index("dog.png") < html.index("albums/cat b.png"), "newest first"
    cat = html[html.index('<code class="wrap">albums/cat b.png</code>') :]
    assert cat.index("300x200") < cat.index("x60,webp")
    assert f'href="{cdn_url}/albums/cat%20b.png"' in html
    assert f'href="{cdn_url}/300x200/albums/cat%20b.png"' in html
    assert f'src="/images/thumb?key={quote("albums/cat b.png", safe="")}&amp;etag=' in html
    assert "160x160" not in html, "no derived thumbnail size is requested"
    assert keys(bucket) == before, "loading the page stores nothing"


def test_thumbnails_are_made_by_the_console(cdn_mode: World) -> None:
    bucket, browser = cdn_mode.bucket, cdn_mode.browser
    put(bucket, "big.png", png(640, 480, (10, 200, 30)))
    before = keys(bucket)
    reply = browser.client.get("/images/thumb?key=big.png&etag=abc")
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/webp"
    assert "sandbox" in reply.headers["content-security-policy"]
    thumb = Image.open(io.BytesIO(reply.content))
    assert thumb.size == (160, 120)
    assert thumb.convert("RGB").getpixel((80, 60))[1] > 150, "it shows the original"
    again = browser.client.get("/images/thumb?key=big.png&etag=abc")
    assert again.content == reply.content
    assert keys(bucket) == before, "no object stored"
    assert cdn_mode.invalidations() == []


def test_thumbnails_cost_no_describe_stacks_after_the_page(cdn_mode: World) -> None:
    """A page of images asks for dozens of thumbnails: they reuse the bucket the page located."""
    browser = cdn_mode.browser
    for n in range(3):
        put(cdn_mode.bucket, f"t/{n}.png", png(40, 30))
    workspace = browser.client.app.state.console.workspace
    now = [1000.0]
    workspace._clock = lambda: now[0]
    calls: list[str] = []
    cloudformation = workspace.clients().client("cloudformation")
    counting = ("before-call.cloudformation.DescribeStacks", lambda **_: calls.append("DescribeStacks"))
    cloudformation.meta.events.register(*counting, unique_id="count-describe-stacks")
    try:
        html = browser.page("/images", params={"prefix": "t/"}).text
        thumbs = re.findall(r'src="(/images/thumb\?[^"]+)"', html)
        assert len(thumbs) == 3 and calls, "the page locates the bucket"
        after_page = len(calls)
        for url in thumbs:
            assert browser.client.get(url.replace("&amp;", "&")).status_code == 200
        assert len(calls) == after_page, "no DescribeStacks per thumbnail"
        now[0] += workspace_module.LOCATION_TTL  # later, the stack may have changed: look again
        assert browser.client.get(thumbs[0].replace("&amp;", "&")).status_code == 200
        assert len(calls) == after_page + 1
        assert browser.client.get(thumbs[1].replace("&amp;", "&")).status_code == 200
        assert len(calls) == after_page + 1, "and that lookup serves the next ones"
    finally:
        cloudformation.meta.events.unregister(counting[0], unique_id="count-describe-stacks")


@pytest.mark.parametrize(
    "body", [b"not an image", png_declaring(20_000, 20_000), png_declaring(8_000, 8_000)]
)
def test_no_thumbnail_for_what_the_function_would_refuse(cdn_mode: World, body: bytes) -> None:
    put(cdn_mode.bucket, "odd.png", body)
    reply = cdn_mode.browser.client.get("/images/thumb?key=odd.png")
    assert reply.status_code == 415 and "no preview" in reply.json()["message"]
    assert cdn_mode.browser.client.get("/images/thumb?key=none.png").status_code == 404


def test_pages_of_originals(website_mode: World) -> None:
    bucket, browser = website_mode.bucket, website_mode.browser
    for n in range(120):
        put(bucket, f"p/{n:03}.png", b"x")
    put(bucket, "300x200/p/000.png", b"d")
    seen: set[str] = set()
    url, pages = "/images", 0
    while url:
        html = browser.page(url).text
        pages += 1
        found = set(re.findall(r'<p class="key"><code class="wrap">(p/\d+\.png)</code>', html))
        assert found and not found & seen
        seen |= found
        nxt = re.search(r'<a href="(/images\?prefix=&amp;after=[^"]+)" rel="next">', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
        if pages > 1:
            assert "First page" in html
    assert pages == 3 and len(seen) == 120


def test_delete_an_original_shows_the_derived_count_and_the_invalidation(cdn_mode: World) -> None:
    bucket, browser = cdn_mode.bucket, cdn_mode.browser
    put(bucket, "cat.png", png())
    put(bucket, "300x200/cat.png", png(), etag_of="cat.png")
    put(bucket, "100x/cat.png", png(), etag_of="cat.png")

    reply = browser.post("/images/delete", {"key": "cat.png"}, html=True)

    assert reply.status_code == 303
    location = reply.headers["location"]
    assert location.startswith("/images?deleted=cat.png&derived=2&invalidation=")
    shown = browser.page(location).text
    assert "Deleted cat.png and 2 derived image(s)." in shown
    assert "CDN invalidation <code>" in shown and "/300x200/cat.png" in shown
    assert keys(bucket) == set()
    assert cdn_mode.invalidations() == [["/100x/cat.png", "/300x200/cat.png", "/cat.png"]]


def test_delete_without_invalidating(cdn_mode: World) -> None:
    put(cdn_mode.bucket, "cat.png", png())
    reply = cdn_mode.browser.post("/images/delete", {"key": "cat.png", "no_invalidate": "true"}, html=True)
    assert reply.headers["location"].endswith("&invalidation=skipped")
    assert "cached copies live until they expire" in cdn_mode.browser.page(reply.headers["location"]).text
    assert cdn_mode.invalidations() == []


def test_purge_a_size_invalidates_it(cdn_mode: World) -> None:
    put(cdn_mode.bucket, "cat.png", png())
    put(cdn_mode.bucket, "300x200/cat.png", png(), etag_of="cat.png")
    reply = cdn_mode.browser.post("/images/purge", {"spec": "300x200"})
    data = reply.json()
    assert data["deleted"] == 1 and data["invalidation"]["paths"] == ["/300x200/*"]
    assert cdn_mode.invalidations() == [["/300x200/*"]]


def test_replacing_an_upload_drops_the_derived_sizes(cdn_mode: World) -> None:
    bucket, browser = cdn_mode.bucket, cdn_mode.browser
    put(bucket, "cat.png", png(8, 6))
    put(bucket, "300x200/cat.png", png(), etag_of="cat.png")
    reply = browser.post(
        "/images/upload", files={"file": ("cat.png", png(9, 9))}, data={"overwrite": "true"}, html=True
    )
    assert reply.status_code == 303
    shown = browser.page(reply.headers["location"]).text
    assert "Uploaded cat.png: replaced it and removed 1 derived image(s)." in shown
    assert "CDN invalidation <code>" in shown
    assert keys(bucket) == {"cat.png"}
    assert cdn_mode.invalidations() == [["/300x200/cat.png", "/cat.png"]]
    # console.js uploads with fetch and goes where "next" says, to show the same
    data = browser.post(
        "/images/upload", files={"file": ("cat.png", png(7, 7))}, data={"overwrite": "true"}
    ).json()
    assert data["replaced"] and data["derived"] == [] and data["invalidation"]["paths"] == ["/cat.png"]
    assert data["next"].startswith("/images?uploaded=cat.png&replaced=1&derived=0&invalidation=")


def test_stale_derived_images_are_found_and_purged(website_mode: World) -> None:
    bucket, browser = website_mode.bucket, website_mode.browser
    put(bucket, "cat.png", png())
    put(bucket, "300x200/cat.png", png(), etag_of="cat.png")
    s3().put_object(Bucket=bucket, Key="100x/cat.png", Body=b"d", Metadata={"source-etag": "0" * 32})
    s3().put_object(Bucket=bucket, Key="100x/gone.png", Body=b"d", Metadata={"source-etag": "0" * 32})

    assert "Find them" in browser.page("/images").text
    html = browser.page("/images?stale=true").text
    assert "100x/cat.png" in html and "original changed" in html and "original is gone" in html
    assert "Purge 2 stale" in html
    api = browser.client.get("/api/images?stale=true").json()["stale"]
    assert [s["image"]["key"] for s in api] == ["100x/cat.png", "100x/gone.png"]

    reply = browser.post("/images/purge", {"stale": "true"}, html=True)
    assert reply.headers["location"].startswith("/images?purged_stale=1&count=2")
    assert "Purged 2 stale derived image(s)." in browser.page(reply.headers["location"]).text
    assert keys(bucket) == {"cat.png", "300x200/cat.png"}
    refused = browser.post("/images/purge", {})
    assert refused.status_code == 400 and "give a size or stale" in refused.json()["message"]


def test_the_upload_form_names_every_accepted_format(website_mode: World) -> None:
    html = website_mode.browser.page("/images").text
    assert "TIFF" in html and "BMP" in html and "image/tiff" in html and "image/bmp" in html
