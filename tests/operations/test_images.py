"""operations.images: the derived namespace, upload checks (no AWS), then listing, put, get, remove and
purge against moto's S3, with a stack whose BucketName output names the bucket."""

import io
import json

import pytest
from PIL import Image

from operations import images
from operations.aws import Clients
from operations.errors import ConfigError, NotFound, OperationError, StackNotFound
from resizer_function import formats
from tests.resizer_function.images import encoded, marked

PNG = encoded(Image.new("RGB", (2, 2), (10, 20, 30)), "PNG")
JPEG = encoded(marked(8, 6), "JPEG")
WEBP = encoded(marked(8, 6), "WEBP")
GIF = encoded(marked(8, 6), "GIF")


# --- derived_spec ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "spec"),
    [
        ("300x200/cat.jpg", "300x200"),
        ("x600,webp/a/b.png", "x600,webp"),
        ("300x/albums/2024/cat.jpg", "300x"),
        ("300x200,inside,q70,webp/cat.jpg", "300x200,inside,q70,webp"),
        ("cat.jpg", ""),
        ("albums/cat.jpg", ""),
        ("300x200", ""),
        ("300x200/", ""),
        ("photos300x200/cat.jpg", ""),
        ("x/cat.jpg", ""),
        ("0x0/cat.jpg", ""),
        ("", ""),
    ],
)
def test_derived_spec(key: str, spec: str) -> None:
    assert images.derived_spec(key) == spec


def test_image_object_original() -> None:
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert images.ImageObject("300x200/a/b.jpg", 1, moment, True, "300x200").original == "a/b.jpg"
    assert images.ImageObject("a/b.jpg", 1, moment, False).original == "a/b.jpg"


# --- check_upload ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "body", "content_type"),
    [
        ("tiny.png", PNG, "image/png"),
        ("albums/2024/photo.jpg", JPEG, "image/jpeg"),
        ("a.webp", WEBP, "image/webp"),
        ("a.gif", GIF, "image/gif"),
        ("named-wrongly.jpg", PNG, "image/png"),
        ("scan.tiff", encoded(marked(4, 4), "TIFF"), "image/tiff"),
        ("old.bmp", encoded(marked(4, 4), "BMP"), "image/bmp"),
        ("été/ü b+c.png", PNG, "image/png"),
    ],
)
def test_check_upload_accepts_real_images(key: str, body: bytes, content_type: str) -> None:
    assert images.check_upload(key, body) == content_type


def mpo() -> bytes:
    """A multi-picture JPEG, as many phones and cameras write them: a JPEG to every reader."""
    buffer = io.BytesIO()
    marked(8, 6).save(buffer, format="MPO", save_all=True, append_images=[marked(8, 6)])
    return buffer.getvalue()


def test_check_upload_accepts_a_camera_mpo_jpeg() -> None:
    assert images.check_upload("phone/IMG_0001.jpg", mpo()) == "image/jpeg"


@pytest.mark.parametrize(
    "body",
    [
        b"hello, I am text\n",
        b"",
        PNG[: len(PNG) // 2],
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
    ],
)
def test_check_upload_refuses_what_is_not_a_supported_image(body: bytes) -> None:
    with pytest.raises(ConfigError) as raised:
        images.check_upload("photo.png", body)
    assert f"'photo.png' is not a {formats.described()} image" == raised.value.message
    assert "415" in raised.value.hint
    assert "BytesIO" not in raised.value.message and "0x" not in raised.value.message


@pytest.mark.parametrize("key", ["300x200/cat.png", "x600,webp/cat.png", "100x/albums/cat.png"])
def test_check_upload_refuses_the_derived_namespace(key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        images.check_upload(key, PNG)
    assert "resized namespace" in raised.value.message
    assert "must not start with a size" in raised.value.hint


@pytest.mark.parametrize("key", ["a/../b.png", "../b.png", "a/./b.png", "a/..", "a\x00b.png", "a\nb.png"])
def test_check_upload_refuses_dot_segments_and_control_characters(key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        images.check_upload(key, PNG)
    assert "'.', '..' or control characters" in raised.value.message


@pytest.mark.parametrize("key", ["", "/abs.png", "dir/"])
def test_check_upload_refuses_what_is_not_a_key(key: str) -> None:
    with pytest.raises(ConfigError, match="is not an object key"):
        images.check_upload(key, PNG)


def test_check_upload_size_limit() -> None:
    assert images.check_upload("a.png", PNG, max_bytes=len(PNG)) == "image/png"
    with pytest.raises(ConfigError) as raised:
        images.check_upload("a.png", PNG, max_bytes=len(PNG) - 1)
    assert f"{len(PNG):,} bytes, over the {len(PNG) - 1:,} limit" in raised.value.message
    assert images.MAX_UPLOAD_BYTES == 30_000_000


# --- against moto ---------------------------------------------------------------------------------


@pytest.fixture
def bucket(clients: Clients) -> str:
    """A bucket named by the BucketName output of a stack called 'resizer'."""
    template = {
        "Resources": {"ImagesBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"BucketName": {"Value": {"Ref": "ImagesBucket"}}},
    }
    clients.client("cloudformation").create_stack(StackName="resizer", TemplateBody=json.dumps(template))
    return images.bucket_of(clients, "resizer")


def put_raw(clients: Clients, bucket: str, *keys: str) -> None:
    for key in keys:
        clients.client("s3").put_object(Bucket=bucket, Key=key, Body=b"x" * (len(key) + 1))


def keys_in(clients: Clients, bucket: str) -> set[str]:
    return {o["Key"] for o in clients.client("s3").list_objects_v2(Bucket=bucket).get("Contents", [])}


def test_bucket_of(clients: Clients, bucket: str) -> None:
    assert bucket in {b["Name"] for b in clients.client("s3").list_buckets()["Buckets"]}
    clients.client("cloudformation").create_stack(
        StackName="bare", TemplateBody=json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}})
    )
    with pytest.raises(NotFound, match="no BucketName output"):
        images.bucket_of(clients, "bare")
    with pytest.raises(StackNotFound):
        images.bucket_of(clients, "missing")


def test_listing_kinds(clients: Clients, bucket: str) -> None:
    put_raw(clients, bucket, "cat.jpg", "albums/dog.png", "300x200/cat.jpg", "x600,webp/albums/dog.png")

    everything = list(images.listing(clients, bucket))
    originals = list(images.listing(clients, bucket, kind="originals"))
    derived = list(images.listing(clients, bucket, kind="derived"))

    assert [o.key for o in everything] == [
        "300x200/cat.jpg",
        "albums/dog.png",
        "cat.jpg",
        "x600,webp/albums/dog.png",
    ]
    assert [o.key for o in originals] == ["albums/dog.png", "cat.jpg"]
    assert all(not o.derived and o.spec == "" for o in originals)
    assert [(o.key, o.spec, o.original) for o in derived] == [
        ("300x200/cat.jpg", "300x200", "cat.jpg"),
        ("x600,webp/albums/dog.png", "x600,webp", "albums/dog.png"),
    ]
    cat = next(o for o in everything if o.key == "cat.jpg")
    assert cat.size == len("cat.jpg") + 1 and cat.last_modified.tzinfo is not None


def test_listing_with_a_prefix(clients: Clients, bucket: str) -> None:
    put_raw(clients, bucket, "albums/a.jpg", "albums/b.jpg", "other.jpg", "300x200/albums/a.jpg")
    assert [o.key for o in images.listing(clients, bucket, prefix="albums/")] == [
        "albums/a.jpg",
        "albums/b.jpg",
    ]
    assert [o.key for o in images.listing(clients, bucket, prefix="300x200/")] == ["300x200/albums/a.jpg"]


def test_listing_pages_through_everything(clients: Clients, bucket: str) -> None:
    put_raw(clients, bucket, *[f"p/{i:04}.jpg" for i in range(1005)])
    assert len(list(images.listing(clients, bucket, kind="originals"))) == 1005


def test_listing_an_empty_bucket(clients: Clients, bucket: str) -> None:
    assert list(images.listing(clients, bucket)) == []


def test_listing_refuses_an_unknown_kind(clients: Clients, bucket: str) -> None:
    with pytest.raises(ConfigError, match="kind must be all, originals or derived"):
        list(images.listing(clients, bucket, kind="thumbnails"))


def test_put_stores_the_image_with_its_content_type(clients: Clients, bucket: str) -> None:
    stored = images.put(clients, bucket, "albums/tiny.png", PNG)

    assert stored.key == "albums/tiny.png" and stored.size == len(PNG) and not stored.replaced
    head = clients.client("s3").head_object(Bucket=bucket, Key="albums/tiny.png")
    assert head["ContentType"] == "image/png"
    assert clients.client("s3").get_object(Bucket=bucket, Key="albums/tiny.png")["Body"].read() == PNG


def test_put_never_overwrites_unless_asked(clients: Clients, bucket: str) -> None:
    images.put(clients, bucket, "cat.jpg", JPEG)

    with pytest.raises(OperationError) as refused:
        images.put(clients, bucket, "cat.jpg", PNG)
    assert type(refused.value) is OperationError
    assert "'cat.jpg' already exists" in refused.value.message and "--overwrite" in refused.value.hint
    assert images.get(clients, bucket, "cat.jpg").body == JPEG, "the first upload is untouched"

    replaced = images.put(clients, bucket, "cat.jpg", PNG, overwrite=True)
    assert replaced.size == len(PNG)
    found = images.get(clients, bucket, "cat.jpg")
    assert (found.body, found.content_type) == (PNG, "image/png")


def test_put_checks_before_uploading(clients: Clients, bucket: str) -> None:
    with pytest.raises(ConfigError):
        images.put(clients, bucket, "300x200/cat.png", PNG)
    with pytest.raises(ConfigError):
        images.put(clients, bucket, "notes.png", b"just text")
    assert keys_in(clients, bucket) == set()


def test_get(clients: Clients, bucket: str) -> None:
    clients.client("s3").put_object(
        Bucket=bucket,
        Key="300x200/cat.jpg",
        Body=JPEG,
        ContentType="image/jpeg",
        CacheControl="public, max-age=31536000, immutable",
    )
    found = images.get(clients, bucket, "300x200/cat.jpg")
    assert found == images.Download(
        "300x200/cat.jpg", JPEG, "image/jpeg", "public, max-age=31536000, immutable"
    )


def test_get_guesses_a_missing_content_type(clients: Clients, bucket: str) -> None:
    s3 = clients.client("s3")
    s3.put_object(Bucket=bucket, Key="a.png", Body=PNG, ContentType="")
    found = images.get(clients, bucket, "a.png")
    assert found.content_type in ("image/png", "binary/octet-stream")


def test_get_a_missing_key(clients: Clients, bucket: str) -> None:
    with pytest.raises(NotFound) as missing:
        images.get(clients, bucket, "nothing.jpg")
    assert missing.value.message == f"no object 'nothing.jpg' in {bucket}"


def test_remove_a_derived_object(clients: Clients, bucket: str) -> None:
    put_raw(clients, bucket, "cat.jpg", "300x200/cat.jpg")
    removal = images.remove(clients, bucket, "300x200/cat.jpg")
    assert (removal.deleted, removal.derived) == (["300x200/cat.jpg"], [])
    assert removal.invalidation is None and removal.not_invalidated == "not served through a CDN"
    assert keys_in(clients, bucket) == {"cat.jpg"}


def test_remove_a_missing_key(clients: Clients, bucket: str) -> None:
    with pytest.raises(NotFound) as missing:
        images.remove(clients, bucket, "nothing.jpg")
    assert missing.value.message == f"no object 'nothing.jpg' in {bucket}"


def test_purge_removes_only_that_spec(clients: Clients, bucket: str) -> None:
    put_raw(
        clients,
        bucket,
        "cat.jpg",
        "albums/dog.png",
        "300x200/cat.jpg",
        "300x200/albums/dog.png",
        "300x200,webp/cat.jpg",
        "300x2000/cat.jpg",
        "300x/cat.jpg",
        "300x200.jpg",
    )

    assert len(images.purge(clients, bucket, "300x200").deleted) == 2

    assert keys_in(clients, bucket) == {
        "cat.jpg",
        "albums/dog.png",
        "300x200,webp/cat.jpg",
        "300x2000/cat.jpg",
        "300x/cat.jpg",
        "300x200.jpg",
    }
    assert images.purge(clients, bucket, "/300x200,webp/").deleted == ["300x200,webp/cat.jpg"]
    assert images.purge(clients, bucket, "300x200").deleted == []


def test_purge_more_than_a_thousand(clients: Clients, bucket: str) -> None:
    put_raw(clients, bucket, *[f"100x/p/{i:04}.jpg" for i in range(1003)], "p/0001.jpg")
    assert len(images.purge(clients, bucket, "100x").deleted) == 1003
    assert keys_in(clients, bucket) == {"p/0001.jpg"}


@pytest.mark.parametrize(
    ("spec", "canonical"),
    [
        ("300x200,webp,q70", "300x200,q70,webp"),
        ("300x200,cover", "300x200"),
        ("300X200", "300x200"),
        ("300x200,WEBP", "300x200,webp"),
    ],
)
def test_purge_a_non_canonical_spec_names_the_canonical_one(
    clients: Clients, bucket: str, spec: str, canonical: str
) -> None:
    put_raw(clients, bucket, f"{canonical}/cat.jpg")
    with pytest.raises(ConfigError) as refused:
        images.purge(clients, bucket, spec)
    assert refused.value.message == f"{spec!r} is not how that size is written"
    assert refused.value.hint == f"use {canonical}"
    assert keys_in(clients, bucket) == {f"{canonical}/cat.jpg"}, "nothing is deleted"


@pytest.mark.parametrize("spec", ["cat.jpg", "", "albums", "300x200,sepia"])
def test_purge_something_that_is_not_a_spec(clients: Clients, bucket: str, spec: str) -> None:
    put_raw(clients, bucket, "cat.jpg", "albums/cat.jpg")
    with pytest.raises(ConfigError, match="is not a size spec"):
        images.purge(clients, bucket, spec)
    assert keys_in(clients, bucket) == {"cat.jpg", "albums/cat.jpg"}
