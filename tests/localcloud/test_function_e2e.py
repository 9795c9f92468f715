"""End to end: the `resizer` command (a subprocess, no AWS credentials: the local cloud by default)
against a real local-cloud server process provisioned as `resizer up` does: resize, invoke, logs
(filtered and followed), metrics (counted exactly) and images.

The tests share one cloud and run in file order; ``ledger`` counts every invocation of the
function the module makes, so the metrics can be checked exactly.
"""

import json
import math
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from operations import local
from operations.invoke import resize_event
from tests.localcloud.test_e2e import fetch, free_port, local_cloud

RESIZER = str(Path(sys.executable).parent / "resizer")
# The website delivery: the function redirects (302) back to the website.
WEBSITE = {"Delivery": "website"}


@dataclass
class Ledger:
    """Every invocation of the function made by this module, and the request ids of the 404s."""

    invocations: int = 0
    not_found_paths: list[str] = field(default_factory=list)
    not_found_ids: list[str] = field(default_factory=list)
    invalid_paths: int = 0


@dataclass
class Cloud:
    ready: local.Ready
    env: dict[str, str]
    cwd: Path
    ledger: Ledger

    @property
    def website(self) -> str:
        return self.ready.outputs["WebsiteUrl"]

    def resizer(
        self, *args: str, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [RESIZER, *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            timeout=timeout,
        )

    def request(self, path: str) -> int:
        """GET a path of the website, as a browser does; count the invocation it causes (a miss)."""
        status, *_ = fetch(f"{self.website}/{path}")
        self.ledger.invocations += 1
        if status == 404:
            self.ledger.not_found_paths.append("/" + path)
        return status


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    cache = tmp_path_factory.mktemp("function-e2e-cache")
    previous = os.environ.get("RESIZER_CACHE_DIR")
    os.environ["RESIZER_CACHE_DIR"] = str(cache)  # provision builds the zip into the cache
    port = free_port()
    try:
        with local_cloud(tmp_path_factory.mktemp("function-e2e-local"), port) as url:
            ready = [
                e
                for e in local.provision(url, parameters=WEBSITE, sleep=lambda s: None)
                if isinstance(e, local.Ready)
            ][-1]
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith("AWS_") and not k.startswith("RESIZER_")
            }
            env.update(
                RESIZER_LOCAL_PORT=str(port),
                RESIZER_CACHE_DIR=str(cache),
                AWS_CONFIG_FILE=os.devnull,
                AWS_SHARED_CREDENTIALS_FILE=os.devnull,
                AWS_EC2_METADATA_DISABLED="true",
                COLUMNS="200",
            )
            yield Cloud(ready, env, tmp_path_factory.mktemp("function-e2e-cwd"), Ledger())
    finally:
        if previous is None:
            os.environ.pop("RESIZER_CACHE_DIR", None)
        else:
            os.environ["RESIZER_CACHE_DIR"] = previous


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def assert_the_whole_request_log(data: dict) -> list[str]:
    """The JSON of an invoke: its logs are its request's, START to REPORT, in order; the messages."""
    messages = [line["message"] for line in data["logs"]]
    request_id = data["request_id"]
    assert messages[0] == f"START RequestId: {request_id} Version: $LATEST", messages
    assert messages[-2] == f"END RequestId: {request_id}", messages
    assert messages[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: "), messages
    assert sum(m.startswith(("START", "END", "REPORT")) for m in messages) == 3, messages
    assert [json.loads(m)["request_id"] for m in messages if m.startswith("{")] == [request_id], messages
    return messages


def test_resize_shows_the_response_the_report_and_the_request_log(cloud: Cloud) -> None:
    result = cloud.resizer("resize", "300x200/sample.jpg")
    cloud.ledger.invocations += 1

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "No AWS credentials found: using the local cloud" in result.stderr
    assert "OK" in out.splitlines()[0] and out.startswith("Request ")
    assert "HTTP 302" in out
    assert f"Location: {cloud.website}/300x200/sample.jpg" in out
    assert "Report" in out and "duration" in out and " ms" in out
    assert "REPORT RequestId: " in out and "Billed Duration: " in out
    assert "(cold start)" in out and "Init Duration: " in out, "the function's first call"
    assert '"path": "/300x200/sample.jpg"' in out and '"status": 302' in out, "the request's JSON line"
    assert '"_aws"' not in out


def test_resize_json(cloud: Cloud) -> None:
    result = cloud.resizer("resize", "64x64/sample.jpg", "-o", "json")
    cloud.ledger.invocations += 1

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["function_error"] is None and data["http"]["status"] == 302
    assert data["report"]["duration_ms"] > 0 and data["report"]["billed_ms"] >= 1
    messages = assert_the_whole_request_log(data)
    records = [json.loads(m) for m in messages if m.startswith("{")]
    assert [r["path"] for r in records] == ["/64x64/sample.jpg"]


def test_resize_a_missing_image_is_a_404(cloud: Cloud) -> None:
    result = cloud.resizer("resize", "100x/missing.jpg", "-o", "json")
    cloud.ledger.invocations += 1
    cloud.ledger.not_found_paths.append("/100x/missing.jpg")

    assert result.returncode == 1, result.stderr  # the function answered an error: scripts see it
    data = json.loads(result.stdout)
    cloud.ledger.not_found_ids.append(data["request_id"])
    assert data["http"]["status"] == 404
    assert_the_whole_request_log(data)
    assert (
        data["payload"]["statusCode"] == 404 and json.loads(data["payload"]["body"])["error"] == "not_found"
    )


def test_invoke_an_event_from_a_file(cloud: Cloud) -> None:
    (cloud.cwd / "event.json").write_text(json.dumps(resize_event("150x/sample.jpg")))

    result = cloud.resizer("invoke", "@event.json", "-o", "json")
    cloud.ledger.invocations += 1

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["http"]["status"] == 302
    assert data["http"]["headers"]["Location"] == f"{cloud.website}/150x/sample.jpg"
    assert any('"/150x/sample.jpg"' in m for m in assert_the_whole_request_log(data))


def test_invoke_an_event_from_stdin(cloud: Cloud) -> None:
    result = cloud.resizer("invoke", "-", input=json.dumps(resize_event("151x/sample.jpg")))
    cloud.ledger.invocations += 1

    assert result.returncode == 0, result.stderr
    assert "HTTP 302" in result.stdout and "REPORT RequestId: " in result.stdout


def test_invoke_an_event_from_an_argument_that_is_not_an_api_event(cloud: Cloud) -> None:
    result = cloud.resizer("invoke", '{"hello": "world"}', "-o", "json")
    cloud.ledger.invocations += 1

    assert result.returncode == 1, result.stderr  # a 400 answer is a failure for scripts
    data = json.loads(result.stdout)
    # no path: the function answers a proxy response all the same (an error, not a crash)
    assert data["function_error"] is None
    assert data["http"] is not None and data["http"]["status"] == 400
    assert json.loads(data["payload"]["body"])["error"] == "invalid_path"
    cloud.ledger.invalid_paths += 1
    assert_the_whole_request_log(data)


def test_requests_through_the_website_then_the_metrics_count_them_exactly(cloud: Cloud) -> None:
    sizes = ["21x", "22x", "23x", "24x", "25x", "26x"]
    statuses = [cloud.request(f"{size}/sample.jpg") for size in sizes]
    statuses += [cloud.request("40x/nothing-here.jpg"), cloud.request("41x/nothing-here.jpg")]
    assert statuses == [200] * 6 + [404, 404]
    assert cloud.request("21x/sample.jpg") == 200  # a hit: stored, no invocation
    cloud.ledger.invocations -= 1
    # The local cloud drops what was published in the query's last partial second (see
    # tests/operations/test_metrics_op.py::test_function_metrics_counts_a_call_made_just_before_the_end).
    time.sleep(1.0)

    result = cloud.resizer("metrics", "--since", "10m", "-o", "json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    series = {s["key"]: s for s in data["series"]}
    assert series["invocations"]["summary"] == cloud.ledger.invocations, (
        data["start"],
        data["end"],
        series["invocations"],
    )
    assert sum(series["invocations"]["values"]) == cloud.ledger.invocations
    assert series["errors"]["summary"] == 0 and data["error_rate"] == 0.0
    assert series["throttles"]["summary"] == 0
    p99, top = series["duration_p99"]["summary"], series["duration_max"]["summary"]
    assert p99 is not None and p99 > 0
    assert p99 == pytest.approx(top), "p99 of fewer than 100 calls is the slowest one"
    p50 = series["duration_p50"]["summary"]
    assert p50 is not None and 0 < p50 <= p99
    assert series["errors_not_found"]["summary"] == len(cloud.ledger.not_found_paths)
    if cloud.ledger.invalid_paths:
        assert series["errors_invalid_path"]["summary"] == cloud.ledger.invalid_paths
    assert {k for k in series if k.startswith("errors_")} <= {"errors_not_found", "errors_invalid_path"}
    assert series["output_bytes"]["summary"] > 0
    assert series["resize_p99"]["summary"] > 0

    # the slowest call's Duration is the one its REPORT line shows
    logs = cloud.resizer("logs", "--function", "resize", "--since", "10m", "--filter", "REPORT", "-o", "json")
    assert logs.returncode == 0, logs.stderr
    reports = [line["message"] for line in json_lines(logs.stdout) if line["message"].startswith("REPORT")]
    assert len(reports) == cloud.ledger.invocations
    durations = [float(r.split("\tDuration: ")[1].split(" ms")[0]) for r in reports]
    assert max(durations) == pytest.approx(top, abs=0.01)
    ordered = sorted(durations)
    assert p50 == pytest.approx(ordered[math.ceil(len(ordered) / 2) - 1], abs=0.01), "nearest rank, all calls"
    assert series["duration_avg"]["summary"] == pytest.approx(sum(durations) / len(durations), abs=0.01)


def test_metrics_text(cloud: Cloud) -> None:
    result = cloud.resizer("metrics", "--since", "10m")
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("Invocations"))
    assert str(cloud.ledger.invocations) in row.split()
    assert "error rate: 0.00 %" in result.stdout
    assert any(bar in result.stdout for bar in "▁▂▃▄▅▆▇█")


def test_logs_filtered_on_the_json_line(cloud: Cloud) -> None:
    result = cloud.resizer("logs", "--since", "10m", "--filter", "{ $.status = 404 }", "-o", "json")

    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert sorted(line["json"]["path"] for line in lines) == sorted(cloud.ledger.not_found_paths)
    assert all(line["json"]["status"] == 404 and line["json"]["error"] == "not_found" for line in lines)
    ids = {line["json"]["request_id"] for line in lines}
    assert set(cloud.ledger.not_found_ids) <= ids


def test_logs_with_an_invalid_filter_is_exit_2(cloud: Cloud) -> None:
    result = cloud.resizer("logs", "--since", "10m", "--filter", "{ $.status = }")
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "invalid filter pattern" in result.stderr


def test_logs_grouped_by_request(cloud: Cloud) -> None:
    result = cloud.resizer("logs", "--function", "resize", "--since", "10m")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.count("START RequestId: ") == cloud.ledger.invocations
    assert out.count("REPORT RequestId: ") == cloud.ledger.invocations
    assert '"path": "/300x200/sample.jpg"' in out


def test_logs_follow_prints_a_new_request_within_3_seconds(cloud: Cloud) -> None:
    process = subprocess.Popen(
        [RESIZER, "logs", "-f", "--since", "10m", "-o", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=cloud.env,
        cwd=cloud.cwd,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True)
    reader.start()

    def next_line(deadline: float) -> str | None:
        try:
            return lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    try:
        assert next_line(time.monotonic() + 20) is not None, "the follower printed the earlier lines"
        while next_line(time.monotonic() + 1.5) is not None:
            pass  # the backlog
        assert cloud.request("77x33/sample.jpg") == 200
        requested = time.monotonic()
        deadline = requested + 3
        seen: list[dict] = []
        while (line := next_line(deadline)) is not None:
            seen.append(json.loads(line))
            if any(e["message"].startswith("REPORT") for e in seen) and any(
                (e["json"] or {}).get("path") == "/77x33/sample.jpg" for e in seen
            ):
                break
        elapsed = time.monotonic() - requested
        paths = [(e["json"] or {}).get("path") for e in seen]
        assert "/77x33/sample.jpg" in paths, f"no line of the new request after {elapsed:.1f} s: {seen}"
        assert any(e["message"].startswith("REPORT") for e in seen)
        assert paths.count("/77x33/sample.jpg") == 1, "each line once"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_images_ls_lists_the_derived_objects(cloud: Cloud) -> None:
    result = cloud.resizer("images", "ls", "--kind", "derived", "-o", "json")

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["bucket"] == cloud.ready.outputs["BucketName"]
    keys = {i["key"] for i in data["images"]}
    expected = {f"{size}/sample.jpg" for size in ("300x200", "64x64", "150x", "151x", "21x", "26x", "77x33")}
    assert expected <= keys
    assert all(i["derived"] and i["key"].startswith(i["spec"] + "/") for i in data["images"])
    assert not any("missing" in key or "nothing-here" in key for key in keys)
    originals = json.loads(cloud.resizer("images", "ls", "--kind", "originals", "-o", "json").stdout)
    assert [i["key"] for i in originals["images"]] == ["sample.jpg"]


def test_images_purge_then_the_next_request_resizes_again(cloud: Cloud) -> None:
    purged = cloud.resizer("images", "purge", "21x", "-o", "json")
    assert purged.returncode == 0, purged.stderr
    data = json.loads(purged.stdout)
    assert (data["spec"], data["deleted"], data["keys"]) == ("21x", 1, ["21x/sample.jpg"])
    assert cloud.request("21x/sample.jpg") == 200
    again = json.loads(cloud.resizer("images", "ls", "21x/", "-o", "json").stdout)
    assert [i["key"] for i in again["images"]] == ["21x/sample.jpg"]
