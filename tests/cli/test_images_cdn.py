"""`resizer images` with derived objects following their originals, CDN invalidations, stale
objects and bad files; `resizer cdn invalidate|status`; `status`'s delivery — through the Typer
app against moto in process (a real CloudFront distribution, the contract's stack outputs).

The module shares one moto world with two stacks made once: ``resizer`` (cdn) and ``resizer-website``;
``world`` empties the chosen one's bucket and counts the distribution's invalidations so far, so a
test sees only its own images and invalidations whatever the order.
"""

import io
import json
import warnings

import boto3
import pytest
from PIL import Image

from cli.app import app
from operations.aws import Clients
from resizer_function import formats
from tests.operations import cdn_world


def run(runner, *args):
    return runner.invoke(app, list(args))


def png(width: int = 3, height: int = 2, color=(200, 10, 10)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def keys(bucket: str) -> set[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=bucket)
    return {o["Key"] for o in listed.get("Contents", [])}


def all_invalidations(distribution: str) -> list[list[str]]:
    cloudfront = boto3.client("cloudfront")
    items = cloudfront.list_invalidations(DistributionId=distribution)["InvalidationList"].get("Items", [])
    return [
        cloudfront.get_invalidation(DistributionId=distribution, Id=i["Id"])["Invalidation"][
            "InvalidationBatch"
        ]["Paths"]["Items"]
        for i in sorted(items or [], key=lambda i: i["CreateTime"])
    ]


def invalidations(world: dict) -> list[list[str]]:
    """The paths of the invalidations made since the test began, oldest first."""
    return all_invalidations(world["distribution"])[world["invalidations_before"] :]


STACKS = {"cdn": "resizer", "website": "resizer-website"}


@pytest.fixture(scope="module")
def worlds(shared_moto) -> dict[str, dict]:
    """Both stacks, made once for the module: their bucket, distribution and outputs by mode."""
    clients = Clients(boto3.Session(region_name="us-east-1"))
    made = {}
    for mode, name in STACKS.items():
        distribution = cdn_world.stack(clients, mode, name=name)
        outputs = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]["Outputs"]
        found = {o["OutputKey"]: o["OutputValue"] for o in outputs}
        made[mode] = {"bucket": found["BucketName"], "distribution": distribution.get("Id", "")}
        made[mode]["outputs"] = found
    return made


@pytest.fixture
def world(shared_aws, worlds, request, monkeypatch) -> dict:
    """The cdn stack (or with the ``website`` param the website one) as the target, its bucket empty."""
    mode = getattr(request, "param", "cdn")
    monkeypatch.setenv("RESIZER_STACK", STACKS[mode])
    chosen = dict(worlds[mode])
    s3 = boto3.client("s3")
    for key in keys(chosen["bucket"]):
        s3.delete_object(Bucket=chosen["bucket"], Key=key)
    before = all_invalidations(chosen["distribution"]) if chosen["distribution"] else []
    chosen["invalidations_before"] = len(before)
    return chosen


def put_original(bucket: str, key: str, body: bytes = b"") -> str:
    s3 = boto3.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=body or png(), ContentType="image/png")
    return s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')


def put_derived(bucket: str, key: str, etag: str, *specs: str) -> None:
    for spec in specs:
        boto3.client("s3").put_object(
            Bucket=bucket,
            Key=f"{spec}/{key}",
            Body=b"d",
            Metadata={"source-etag": etag, "resizer-spec": spec},
        )


# --- status and cdn ------------------------------------------------------------------------------


def test_status_shows_the_delivery_and_the_cdn_url(runner, world) -> None:
    text = run(runner, "status")
    as_json = run(runner, "status", "-o", "json")
    assert text.exit_code == 0, text.output
    cdn_url = world["outputs"]["CdnUrl"]
    assert "Delivery" in text.stdout and "cdn" in text.stdout and cdn_url in text.stdout
    assert world["distribution"] in text.stdout
    delivery = json.loads(as_json.stdout)["delivery"]
    assert delivery["mode"] == "cdn" and delivery["cdn_url"] == cdn_url
    assert delivery["distribution_id"] == world["distribution"]


@pytest.mark.parametrize("world", ["website"], indirect=True)
def test_status_of_a_website_stack(runner, world) -> None:
    delivery = json.loads(run(runner, "status", "-o", "json").stdout)["delivery"]
    assert (
        delivery["mode"] == "website"
        and delivery["cdn_url"] == ""
        and delivery["base_url"].startswith("http")
    )


def test_cdn_invalidate_and_status(runner, world) -> None:
    text = run(runner, "cdn", "invalidate", "300x200/cat.jpg", "/albums/été 1.jpg")
    as_json = run(runner, "cdn", "invalidate", "/300x200/*", "-o", "json")
    status = run(runner, "cdn", "status")
    status_json = run(runner, "cdn", "status", "--recent", "1", "-o", "json")

    assert text.exit_code == 0, text.output
    assert text.stdout.startswith("CDN invalidation ")
    assert "/300x200/cat.jpg, /albums/%C3%A9t%C3%A9%201.jpg" in text.stdout
    created = json.loads(as_json.stdout)
    assert created["distribution"] == world["distribution"]
    assert created["invalidation"]["paths"] == ["/300x200/*"] and created["invalidation"]["id"]
    assert invalidations(world) == [
        ["/300x200/cat.jpg", "/albums/%C3%A9t%C3%A9%201.jpg"],
        ["/300x200/*"],
    ]
    assert status.exit_code == 0, status.output
    assert world["distribution"] in status.stdout and "Recent invalidations" in status.stdout
    assert world["outputs"]["CdnUrl"] in status.stdout
    data = json.loads(status_json.stdout)
    assert data["id"] == world["distribution"] and data["cdn_url"] == world["outputs"]["CdnUrl"]
    assert data["domain"].endswith(".cloudfront.net") and len(data["invalidations"]) == 1


def test_cdn_invalidate_refuses_bad_paths(runner, world) -> None:
    result = run(runner, "cdn", "invalidate", "/a*b.jpg")
    assert result.exit_code == 2 and "only allowed at the end" in result.stderr
    assert invalidations(world) == []


@pytest.mark.parametrize("world", ["website"], indirect=True)
def test_cdn_commands_in_website_mode(runner, world) -> None:
    for args in (["cdn", "status"], ["cdn", "invalidate", "/cat.jpg"]):
        result = run(runner, *args)
        assert result.exit_code == 2, result.output
        assert "Delivery=website" in result.stderr and "Delivery=cdn" in result.stderr


# --- images with a CDN ----------------------------------------------------------------------------


def test_rm_of_an_original_takes_its_derived_and_invalidates(runner, world) -> None:
    bucket = world["bucket"]
    etag = put_original(bucket, "cat.png")
    put_derived(bucket, "cat.png", etag, "300x200", "x600,webp")
    put_original(bucket, "dog.png")

    text = run(runner, "images", "rm", "cat.png")
    skipped = run(runner, "images", "rm", "dog.png", "--no-invalidate", "-o", "json")

    assert text.exit_code == 0, text.output
    lines = text.stdout.strip().splitlines()
    assert lines[0] == "Deleted cat.png and 2 derived image(s)"
    assert lines[1].startswith("CDN invalidation ") and "/300x200/cat.png" in lines[1]
    assert keys(bucket) == set()
    data = json.loads(skipped.stdout)
    assert data["invalidation"] is None and data["not_invalidated"] == "invalidation skipped"
    assert invalidations(world) == [["/300x200/cat.png", "/cat.png", "/x600,webp/cat.png"]]


def test_purge_invalidates_the_size_and_json_shows_it(runner, world) -> None:
    bucket = world["bucket"]
    etag = put_original(bucket, "cat.png")
    put_derived(bucket, "cat.png", etag, "300x200")
    result = run(runner, "images", "purge", "300x200", "-o", "json")
    data = json.loads(result.stdout)
    assert data["deleted"] == 1 and data["invalidation"]["paths"] == ["/300x200/*"]
    assert data["invalidation"]["status"]
    no = run(runner, "images", "purge", "300x200", "--no-invalidate")
    assert "CDN not invalidated (--no-invalidate)" in no.stdout
    assert invalidations(world) == [["/300x200/*"]]


def test_put_overwrite_replaces_and_drops_the_derived(runner, world, tmp_path) -> None:
    bucket = world["bucket"]
    etag = put_original(bucket, "cat.png", png(3, 2))
    put_derived(bucket, "cat.png", etag, "300x200", "100x")
    (tmp_path / "new.png").write_bytes(png(5, 5))

    result = run(runner, "images", "put", "new.png", "cat.png", "--overwrite")

    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[1] == "Replaced the previous cat.png: removed 2 derived image(s)"
    assert lines[2].startswith("CDN invalidation ")
    assert keys(bucket) == {"cat.png"}
    assert invalidations(world) == [["/100x/cat.png", "/300x200/cat.png", "/cat.png"]]


@pytest.mark.parametrize("world", ["website"], indirect=True)
def test_website_mode_never_invalidates(runner, world) -> None:
    bucket = world["bucket"]
    etag = put_original(bucket, "cat.png")
    put_derived(bucket, "cat.png", etag, "300x200")
    result = run(runner, "images", "rm", "cat.png")
    assert result.stdout.strip() == "Deleted cat.png and 1 derived image(s)"


def test_ls_and_purge_stale(runner, world) -> None:
    bucket = world["bucket"]
    etag = put_original(bucket, "fresh.png")
    put_derived(bucket, "fresh.png", etag, "300x200")
    put_original(bucket, "changed.png")
    put_derived(bucket, "changed.png", "0" * 32, "300x200")
    put_derived(bucket, "gone.png", "0" * 32, "x600")

    text = run(runner, "images", "ls", "--stale")
    as_json = run(runner, "images", "ls", "--stale", "-o", "json")
    purged = run(runner, "images", "purge", "--stale")
    after = run(runner, "images", "ls", "--stale", "-o", "json")

    assert text.exit_code == 0, text.output
    assert "300x200/changed.png" in text.stdout and "original changed" in text.stdout
    assert "x600/gone.png" in text.stdout and "original is gone" in text.stdout
    assert "fresh" not in text.stdout and "2 stale derived image(s)" in text.stderr
    stale = json.loads(as_json.stdout)["stale"]
    assert [(s["image"]["key"], s["reason"]) for s in stale] == [
        ("300x200/changed.png", "changed"),
        ("x600/gone.png", "missing"),
    ]
    assert purged.exit_code == 0 and purged.stdout.startswith("Purged 2 stale derived image(s)")
    assert json.loads(after.stdout)["stale"] == []
    assert keys(bucket) == {"fresh.png", "300x200/fresh.png", "changed.png"}


def test_purge_needs_a_size_or_stale(runner, world) -> None:
    for args in (["images", "purge"], ["images", "purge", "300x200", "--stale"]):
        result = run(runner, *args)
        assert result.exit_code == 2 and "give a size or --stale" in result.stderr


# --- get ------------------------------------------------------------------------------------------


def test_get_to_stdout_and_never_over_a_file_unless_forced(runner, world, tmp_path) -> None:
    bucket = world["bucket"]
    put_original(bucket, "albums/cat.png", png(4, 4))

    piped = run(runner, "images", "get", "albums/cat.png", "-")
    assert piped.exit_code == 0 and piped.stdout_bytes == png(4, 4)
    assert not (tmp_path / "-").exists()

    (tmp_path / "cat.png").write_bytes(b"mine")
    refused = run(runner, "images", "get", "albums/cat.png")
    assert refused.exit_code == 2 and "cat.png exists" in refused.stderr and "--force" in refused.stderr
    assert (tmp_path / "cat.png").read_bytes() == b"mine"
    forced = run(runner, "images", "get", "albums/cat.png", "--force")
    assert forced.exit_code == 0 and (tmp_path / "cat.png").read_bytes() == png(4, 4)

    (tmp_path / "out").mkdir()
    into = run(runner, "images", "get", "albums/cat.png", "out")
    assert into.exit_code == 0 and (tmp_path / "out" / "cat.png").read_bytes() == png(4, 4)


@pytest.mark.parametrize("key", ["a/..", "a/.", ".."])
def test_get_a_key_that_names_no_file(runner, world, key) -> None:
    result = run(runner, "images", "get", key)
    assert result.exit_code == 2, result.output
    assert f"cannot name a file after the key {key!r}" in result.stderr and "- for stdout" in result.stderr
    assert "IsADirectoryError" not in result.output


# --- bad files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(20_000, 20_000), (12_000, 12_000)])
def test_put_of_a_decompression_bomb_is_a_clear_refusal(
    runner, world, tmp_path, declared_png, width, height
) -> None:
    (tmp_path / "bomb.png").write_bytes(declared_png(width, height))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(runner, "images", "put", "bomb.png")
    assert result.exit_code == 2, result.output
    assert "declares more than 50,000,000 pixels" in result.stderr and "413" in result.stderr
    assert "Decompression" not in result.output and "internal error" not in result.stderr
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]
    assert keys(world["bucket"]) == set()


def test_put_of_an_svg_named_jpg(runner, world, tmp_path) -> None:
    (tmp_path / "logo.jpg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    result = run(runner, "images", "put", "logo.jpg")
    assert result.exit_code == 2
    assert f"'logo.jpg' is not a {formats.described()} image" in result.stderr
    assert "BytesIO" not in result.stderr and "0x" not in result.stderr


@pytest.mark.parametrize("fmt", ["TIFF", "BMP"])
def test_put_of_tiff_and_bmp_originals(runner, world, tmp_path, fmt) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 4), "green").save(buffer, format=fmt)
    (tmp_path / f"scan.{fmt.lower()}").write_bytes(buffer.getvalue())
    result = run(runner, "images", "put", f"scan.{fmt.lower()}")
    assert result.exit_code == 0, result.output
    head = boto3.client("s3").head_object(Bucket=world["bucket"], Key=f"scan.{fmt.lower()}")
    assert head["ContentType"] == formats.SOURCE_TYPES[fmt]
