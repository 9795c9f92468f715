"""operations.images, issue 10/11/13: one list of accepted formats, bombs refused from their header,
derived objects that follow their originals (with CDN invalidations in cdn delivery), stale
derived objects, DeleteObjects errors reported, and the console's paged browse — against moto."""

import json

import pytest
from PIL import Image, features

from operations import cdn, images
from operations.aws import Clients
from operations.errors import AccessDenied, AwsError, ConfigError
from resizer_function import formats, imaging
from tests.conftest import png_declaring
from tests.operations import cdn_world
from tests.resizer_function.images import encoded, marked

PNG = encoded(Image.new("RGB", (2, 2), (10, 20, 30)), "PNG")
OTHER_PNG = encoded(Image.new("RGB", (3, 2), (200, 20, 30)), "PNG")


# --- one list of formats ------------------------------------------------------------------------


def test_the_function_and_the_upload_check_share_one_list() -> None:
    assert imaging.DECODERS == formats.DECODERS
    assert set(formats.DECODERS) <= set(images.UPLOAD_FORMATS)
    assert "TIFF" in formats.described() and "BMP" in formats.described()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF", "TIFF", "BMP", "AVIF"])
def test_every_format_the_function_decodes_is_accepted(fmt: str) -> None:
    if fmt not in formats.DECODERS:
        assert fmt == "AVIF" and not features.check("avif")
        return
    body = encoded(marked(8, 6).convert("RGB"), fmt)
    assert images.check_upload(f"a.{fmt.lower()}", body) == formats.SOURCE_TYPES[fmt]


# --- bad files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (12_000, 12_000), (8_000, 7_000)])
def test_huge_declared_dimensions_are_refused_from_the_header(width: int, height: int, recwarn) -> None:
    bomb = png_declaring(width, height)
    assert len(bomb) < 1000
    with pytest.raises(ConfigError) as refused:
        images.check_upload("bomb.png", bomb)
    assert "declares more than 50,000,000 pixels" in refused.value.message
    assert "413" in refused.value.hint
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_a_large_but_acceptable_header_passes() -> None:
    assert images.check_upload("big.png", png_declaring(7_000, 7_000)) == "image/png"


def test_an_svg_named_jpg_is_refused_without_internals() -> None:
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"></svg>'
    with pytest.raises(ConfigError) as refused:
        images.check_upload("logo.jpg", svg)
    assert refused.value.message == f"'logo.jpg' is not a {formats.described()} image"
    assert "<" not in refused.value.message


# --- a world ----------------------------------------------------------------------------------------


@pytest.fixture(params=["website", "cdn"])
def world(request, clients: Clients) -> tuple[Clients, str, cdn.Delivery]:
    cdn_world.stack(clients, request.param)
    bucket, delivery = images.location(clients, "resizer")
    return clients, bucket, delivery


@pytest.fixture
def cdn_stack(clients: Clients) -> tuple[Clients, str, cdn.Delivery]:
    cdn_world.stack(clients, "cdn")
    bucket, delivery = images.location(clients, "resizer")
    assert delivery.cdn
    return clients, bucket, delivery


def derive(clients: Clients, bucket: str, key: str, *specs: str, etag: str | None = None) -> None:
    """Derived objects as the function writes them (source-etag = the original's ETag)."""
    s3 = clients.client("s3")
    source = etag if etag is not None else s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    for spec in specs:
        s3.put_object(
            Bucket=bucket,
            Key=f"{spec}/{key}",
            Body=b"derived",
            Metadata={"source-etag": source, "resizer-spec": spec},
        )


def keys_in(clients: Clients, bucket: str) -> set[str]:
    pages = clients.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def invalidated(clients: Clients, delivery: cdn.Delivery) -> list[list[str]]:
    """The paths of every invalidation of the distribution, oldest first."""
    cloudfront = clients.client("cloudfront")
    listed = cloudfront.list_invalidations(DistributionId=delivery.distribution_id)["InvalidationList"]
    found = []
    for item in sorted(listed.get("Items", []) or [], key=lambda i: i["CreateTime"]):
        got = cloudfront.get_invalidation(DistributionId=delivery.distribution_id, Id=item["Id"])
        found.append(got["Invalidation"]["InvalidationBatch"]["Paths"]["Items"])
    return found


# --- derived objects follow their originals -------------------------------------------------------


def test_overwriting_an_original_deletes_its_derived_objects(world) -> None:
    clients, bucket, delivery = world
    images.put(clients, bucket, "albums/cat.png", PNG)
    images.put(clients, bucket, "albums/cat.png.bak", PNG)
    derive(clients, bucket, "albums/cat.png", "300x200", "x600,webp")
    derive(clients, bucket, "albums/cat.png.bak", "300x200")

    same = images.put(clients, bucket, "albums/cat.png", PNG, overwrite=True, delivery=delivery)
    assert not same.replaced and same.removal.deleted == [], "the same bytes leave the derived alone"
    assert "300x200/albums/cat.png" in keys_in(clients, bucket)

    replaced = images.put(clients, bucket, "albums/cat.png", OTHER_PNG, overwrite=True, delivery=delivery)

    assert replaced.replaced and replaced.size == len(OTHER_PNG)
    assert sorted(replaced.removal.derived) == ["300x200/albums/cat.png", "x600,webp/albums/cat.png"]
    assert keys_in(clients, bucket) == {"albums/cat.png", "albums/cat.png.bak", "300x200/albums/cat.png.bak"}
    if delivery.cdn:
        assert replaced.removal.invalidation is not None
        assert sorted(replaced.removal.invalidation.paths) == [
            "/300x200/albums/cat.png",
            "/albums/cat.png",
            "/x600,webp/albums/cat.png",
        ]
        assert invalidated(clients, delivery) == [replaced.removal.invalidation.paths]
    else:
        assert replaced.removal.invalidation is None
        assert replaced.removal.not_invalidated == "not served through a CDN" and not replaced.removal.skipped


def test_removing_an_original_removes_its_derived_objects(world) -> None:
    clients, bucket, delivery = world
    images.put(clients, bucket, "été/ü b+c.png", PNG)
    images.put(clients, bucket, "dog.png", PNG)
    derive(clients, bucket, "été/ü b+c.png", "300x200", "100x")
    derive(clients, bucket, "dog.png", "300x200")

    removal = images.remove(clients, bucket, "été/ü b+c.png", delivery=delivery)

    assert removal.deleted == ["été/ü b+c.png", "100x/été/ü b+c.png", "300x200/été/ü b+c.png"]
    assert removal.derived == ["100x/été/ü b+c.png", "300x200/été/ü b+c.png"]
    assert keys_in(clients, bucket) == {"dog.png", "300x200/dog.png"}
    if delivery.cdn:
        assert removal.invalidation is not None
        assert sorted(removal.invalidation.paths) == [
            "/%C3%A9t%C3%A9/%C3%BC%20b%2Bc.png",
            "/100x/%C3%A9t%C3%A9/%C3%BC%20b%2Bc.png",
            "/300x200/%C3%A9t%C3%A9/%C3%BC%20b%2Bc.png",
        ]
        assert len(invalidated(clients, delivery)) == 1, "one CreateInvalidation per operation"


def test_purge_invalidates_the_whole_size_once(cdn_stack) -> None:
    clients, bucket, delivery = cdn_stack
    for n in range(5):
        images.put(clients, bucket, f"p/{n}.png", PNG)
        derive(clients, bucket, f"p/{n}.png", "300x200")
    removal = images.purge(clients, bucket, "300x200", delivery=delivery)
    assert len(removal.deleted) == 5 and removal.invalidation is not None
    assert removal.invalidation.paths == ["/300x200/*"]
    nothing_left = images.purge(clients, bucket, "300x200", delivery=delivery)
    assert nothing_left.deleted == [] and nothing_left.invalidation is not None, "the CDN may still hold it"
    assert invalidated(clients, delivery) == [["/300x200/*"], ["/300x200/*"]]


def test_no_invalidate_skips_the_cdn(cdn_stack) -> None:
    clients, bucket, delivery = cdn_stack
    images.put(clients, bucket, "cat.png", PNG)
    derive(clients, bucket, "cat.png", "300x200")
    removal = images.remove(clients, bucket, "cat.png", delivery=delivery, invalidate=False)
    assert removal.deleted == ["cat.png", "300x200/cat.png"]
    assert removal.invalidation is None and removal.not_invalidated == "invalidation skipped"
    assert removal.skipped, "the fronts warn that cached copies stay"
    assert invalidated(clients, delivery) == []


# --- stale derived objects ------------------------------------------------------------------------


def test_stale_lists_changed_and_orphaned_derived_objects_and_purge_removes_them(world) -> None:
    clients, bucket, delivery = world
    s3 = clients.client("s3")
    for key in ("fresh.png", "changed.png", "unknown.png"):
        images.put(clients, bucket, key, PNG)
    derive(clients, bucket, "fresh.png", "300x200")
    derive(clients, bucket, "changed.png", "300x200", "x600", etag="0123456789abcdef0123456789abcdef")
    derive(clients, bucket, "gone.png", "300x200", etag="0123456789abcdef0123456789abcdef")
    s3.put_object(Bucket=bucket, Key="300x200/unknown.png", Body=b"no metadata")

    found = images.stale(clients, bucket)

    assert [(s.image.key, s.reason) for s in found] == [
        ("300x200/changed.png", "changed"),
        ("300x200/gone.png", "missing"),
        ("x600/changed.png", "changed"),
    ]
    changed = found[0]
    assert changed.source_etag == "0123456789abcdef0123456789abcdef"
    assert changed.original_etag == s3.head_object(Bucket=bucket, Key="changed.png")["ETag"].strip('"')
    assert [s.image.key for s in images.stale(clients, bucket, prefix="x600/")] == ["x600/changed.png"]

    removal = images.purge_stale(clients, bucket, delivery=delivery)

    assert sorted(removal.deleted) == ["300x200/changed.png", "300x200/gone.png", "x600/changed.png"]
    assert images.stale(clients, bucket) == []
    assert "300x200/fresh.png" in keys_in(clients, bucket) and "300x200/unknown.png" in keys_in(
        clients, bucket
    )
    assert (removal.invalidation is not None) == delivery.cdn


# --- DeleteObjects errors -------------------------------------------------------------------------


class RefusingDeletes:
    """The real S3 client, but DeleteObjects refuses the keys in ``refused`` as S3 does (Errors)."""

    def __init__(self, s3, refused: dict[str, str]) -> None:
        self.s3 = s3
        self.refused = refused

    def __getattr__(self, name: str):
        return getattr(self.s3, name)

    def delete_objects(self, Bucket: str, Delete: dict) -> dict:
        keep = [o for o in Delete["Objects"] if o["Key"] not in self.refused]
        answer = (
            self.s3.delete_objects(Bucket=Bucket, Delete={"Objects": keep, "Quiet": True}) if keep else {}
        )
        errors = [
            {"Key": o["Key"], "Code": self.refused[o["Key"]], "Message": "refused"}
            for o in Delete["Objects"]
            if o["Key"] in self.refused
        ]
        return {**answer, "Errors": errors}


def refusing(clients: Clients, refused: dict[str, str]) -> Clients:
    real = clients.client("s3")
    wrapped = RefusingDeletes(real, refused)
    clients._cache[("s3", True)] = wrapped
    return clients


def test_purge_reports_the_keys_s3_did_not_delete(cdn_stack) -> None:
    clients, bucket, delivery = cdn_stack
    for n in range(4):
        clients.client("s3").put_object(Bucket=bucket, Key=f"300x200/p/{n}.png", Body=b"x")
    refusing(clients, {"300x200/p/1.png": "AccessDenied", "300x200/p/3.png": "AccessDenied"})

    with pytest.raises(AccessDenied) as failed:
        images.purge(clients, bucket, "300x200", delivery=delivery)

    assert "S3 did not delete 2 object(s): '300x200/p/1.png', '300x200/p/3.png'" in failed.value.message
    assert "AccessDenied" in failed.value.message
    assert "CDN invalidation" in failed.value.hint, "what was deleted is still invalidated"
    assert keys_in(clients, bucket) == {"300x200/p/1.png", "300x200/p/3.png"}


def test_remove_reports_other_delete_errors_with_their_code(world) -> None:
    clients, bucket, delivery = world
    images.put(clients, bucket, "cat.png", PNG)
    derive(clients, bucket, "cat.png", "300x200")
    refusing(clients, {"300x200/cat.png": "InternalError"})
    with pytest.raises(AwsError) as failed:
        images.remove(clients, bucket, "cat.png", delivery=delivery)
    assert failed.value.code == "InternalError" and "'300x200/cat.png'" in failed.value.message


# --- the console's pages: originals with their derived objects -----------------------------------


def test_browse_pages_originals_with_their_derived_objects(clients: Clients) -> None:
    cdn_world.stack(clients, "website")
    bucket, _ = images.location(clients, "resizer")
    s3 = clients.client("s3")
    originals = [f"a/{n:04}.png" for n in range(1100)] + ["z.png"]
    for key in originals:
        s3.put_object(Bucket=bucket, Key=key, Body=b"o")
    for key in [*originals[::100], "z.png"]:
        s3.put_object(Bucket=bucket, Key=f"300x200/{key}", Body=b"d")
        s3.put_object(Bucket=bucket, Key=f"x60,webp/{key}", Body=b"d")
    for n in range(1050):  # a size region bigger than one listing page, between the originals
        s3.put_object(Bucket=bucket, Key=f"300x200/gone/{n:04}.png", Body=b"d")

    seen: list[str] = []
    token, pages = "", 0
    while True:
        page = images.browse(clients, bucket, after=token, page_size=400)
        pages += 1
        seen += [g.original.key for g in page.groups]
        for group in page.groups:
            assert not group.original.derived
            expected = (
                [] if group.original.key not in [*originals[::100], "z.png"] else ["300x200", "x60,webp"]
            )
            assert [d.spec for d in group.derived] == expected
            assert all(d.original == group.original.key for d in group.derived)
        times = [g.original.last_modified for g in page.groups]
        assert times == sorted(times, reverse=True), "newest first within a page"
        token = page.next
        if not token:
            break
    assert pages == 3 and sorted(seen) == sorted(originals)


def test_browse_with_a_prefix_and_an_empty_bucket(clients: Clients) -> None:
    cdn_world.stack(clients, "website")
    bucket, _ = images.location(clients, "resizer")
    assert images.browse(clients, bucket) == images.Page([], "")
    for key in ("a/1.png", "b/1.png", "300x200/a/1.png"):
        clients.client("s3").put_object(Bucket=bucket, Key=key, Body=b"o")
    page = images.browse(clients, bucket, prefix="a/")
    assert [(g.original.key, [d.key for d in g.derived]) for g in page.groups] == [
        ("a/1.png", ["300x200/a/1.png"])
    ]
    assert images.sizes(clients, bucket) == ["300x200"] == page.sizes, "the page says the sizes it read"
    assert json.dumps(page.next) == '""'
