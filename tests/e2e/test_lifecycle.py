"""A stack's whole life on the chosen target (the local cloud, or AWS with `make test-aws`): deploy a
throwaway stack, upload with `resizer images put`, request sizes through the public URL, overwrite
the original and see the derived image follow, read the logs and the metrics, destroy.

The tests share the module's stack and run in file order; on AWS every check of something eventually
consistent (the CDN, CloudWatch Logs and metrics) polls with a bounded wait (``target.wait``).
"""

import io
import json

import pytest
from PIL import Image

from tests import stack_outputs
from tests.e2e.target import Cloud, fetch

KEY = "e2e/pic.png"
# size spec -> (width, height, format) for the first original, 640 x 480 red
SIZES = {"200x": (200, 150, "PNG"), "x60": (80, 60, "PNG"), "160x90,inside,webp": (120, 90, "WEBP")}


def png(width: int, height: int, color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def image(body: bytes) -> Image.Image:
    found = Image.open(io.BytesIO(body))
    found.load()
    return found


def served(target: Cloud, path: str) -> Image.Image | None:
    """The image the public URL serves at ``path`` (None while it answers anything but 200)."""
    status, _, body = fetch(f"{target.images_url}/{path}")
    return image(body) if status == 200 else None


def test_the_deploy_has_the_outputs_of_its_delivery(target: Cloud) -> None:
    outputs = target.outputs
    assert set(outputs) == stack_outputs.BY_DELIVERY[target.delivery]
    status = target.resizer_json("status")
    assert (status["stack"], status["status"]) == (target.stack, "CREATE_COMPLETE")
    assert status["parameters"]["Delivery"] == target.delivery
    assert status["function"]["name"] == outputs["FunctionName"] and status["function"]["state"] == "Active"


def test_upload_with_the_cli(target: Cloud) -> None:
    (target.cwd / "red.png").write_bytes(png(640, 480, (220, 20, 20)))

    stored = target.resizer_json("images", "put", "red.png", KEY)

    assert stored["key"] == KEY and stored["replaced"] is False
    refused = target.resizer("images", "put", "red.png", KEY)
    assert refused.returncode == 1 and "already exists" in refused.stderr


@pytest.mark.parametrize("spec", list(SIZES))
def test_sizes_through_the_public_url(target: Cloud, spec: str) -> None:
    width, height, fmt = SIZES[spec]

    found = target.wait(lambda: served(target, f"{spec}/{KEY}"))

    assert (found.width, found.height, found.format) == (width, height, fmt)
    assert found.convert("RGB").getpixel((width // 2, height // 2))[0] > 150, "the red original"
    head = target.client("s3").head_object(Bucket=target.outputs["BucketName"], Key=f"{spec}/{KEY}")
    original = target.client("s3").head_object(Bucket=target.outputs["BucketName"], Key=KEY)
    assert head["Metadata"]["source-etag"] == original["ETag"].strip('"'), "stored, naming its source"


def test_api_errors_come_back_as_the_function_made_them(target: Cloud) -> None:
    api = target.outputs["ApiUrl"]
    status, _, body = fetch(f"{api}/300x200/nothing.jpg")
    assert status == 404 and json.loads(body)["error"] == "not_found"
    status, _, body = fetch(f"{api}/300x200,webp,q5/{KEY}")
    assert status == 400 and json.loads(body)["canonical"] == f"/300x200,q5,webp/{KEY}"
    status, _, body = fetch(f"{api}/")
    assert status == 403 and json.loads(body) == {"message": "Missing Authentication Token"}


def test_an_overwritten_original_takes_its_derived_images_with_it(target: Cloud) -> None:
    (target.cwd / "blue.png").write_bytes(png(400, 400, (20, 20, 220)))

    stored = target.resizer_json("images", "put", "blue.png", KEY, "--overwrite")

    assert stored["replaced"] is True
    assert sorted(stored["derived"]) == sorted(f"{spec}/{KEY}" for spec in SIZES)

    def blue() -> Image.Image | None:  # on AWS's CDN: once the invalidation has run
        found = served(target, f"200x/{KEY}")
        return found if found and found.convert("RGB").getpixel((100, 100))[2] > 150 else None

    found = target.wait(blue)
    assert found.size == (200, 200), "rendered again from the new original"
    stale = target.resizer_json("images", "ls", "--stale")
    assert stale["stale"] == []


def test_the_logs_have_start_report_and_the_request_lines(target: Cloud) -> None:
    def logged() -> list[dict]:
        result = target.resizer("logs", "--function", "resize", "--since", "1h", "-o", "json")
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        paths = {line["json"]["path"] for line in lines if isinstance(line.get("json"), dict)}
        return lines if {f"/{spec}/{KEY}" for spec in SIZES} <= paths else []

    lines = target.wait(logged)
    messages = [line["message"] for line in lines]
    assert any(m.startswith("START RequestId: ") for m in messages)
    reports = [m for m in messages if m.startswith("REPORT RequestId: ")]
    assert reports and all("Billed Duration: " in m and "Max Memory Used: " in m for m in reports)
    assert any("Init Duration: " in m for m in reports), "a cold start"
    records = [line["json"] for line in lines if isinstance(line.get("json"), dict)]
    miss = 302 if target.delivery == "website" else 200  # redirected to the stored object, or answered
    assert any(r.get("path") == f"/200x/{KEY}" and r.get("status") == miss for r in records)


def test_the_metrics_count_the_invocations(target: Cloud) -> None:
    at_least = len(SIZES) + 1  # every first request of a size, and the one after the overwrite

    def counted() -> float:
        report = target.resizer_json("metrics", "--since", "1h", "--period", "60")
        series = {s["key"]: s for s in report["series"]}
        invocations = series["invocations"]["summary"] or 0
        return invocations if invocations >= at_least else 0

    assert target.wait(counted) >= at_least


def test_destroy_with_the_images(target: Cloud) -> None:
    from botocore.exceptions import ClientError

    from operations import stack

    result = target.resizer("destroy", "--yes", "--delete-images", timeout=3600)

    assert result.returncode == 0, result.stderr
    assert stack.describe(target.client("cloudformation"), target.stack) is None
    with pytest.raises(ClientError):
        target.client("s3").head_bucket(Bucket=target.outputs["BucketName"])
