"""localcloud.log_filter: CloudWatch Logs filter patterns, alone and through moto's FilterLogEvents."""

import json
import time
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError

from localcloud import log_filter
from localcloud.log_filter import compile_pattern
from tests.conftest import patched_moto

REGION = "us-east-1"


def emf(**fields: object) -> str:
    return json.dumps(fields)


NOT_FOUND = emf(level="WARN", status=404, path="/300x200/nothing.jpg", ms={"total": 12.5}, error="not_found")
RESIZED = emf(level="INFO", status=302, path="/300x200/cat.jpg", ms={"total": 80.1}, output_bytes=20480)
CRASH = emf(level="ERROR", status=500, path="/100x/dog.png", ms={"total": 3}, trace=None, cold=True)
REPORT = "REPORT RequestId: 42\tDuration: 81.20 ms\tBilled Duration: 82 ms\tMemory Size: 1536 MB"
TIMEOUT = "2024-05-01T10:00:00.000Z 42 Task timed out after 3.00 seconds"
APACHE = '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326'
APACHE_OK = '10.0.0.2 - - [10/Oct/2000:13:56:01 -0700] "GET /index.html HTTP/1.1" 200 10240'
LINES = {
    "not_found": NOT_FOUND,
    "resized": RESIZED,
    "crash": CRASH,
    "report": REPORT,
    "timeout": TIMEOUT,
    "apache": APACHE,
    "apache_ok": APACHE_OK,
    "array": json.dumps([{"id": 1}, {"id": 2}]),
    "list": emf(users=[{"id": 7, "email": "a@example.com"}], level="ERROR 404"),
}

# pattern -> the names of LINES it matches
CASES: dict[str, set[str]] = {
    "": set(LINES),
    "   ": set(LINES),
    # terms: all must appear, case-sensitive substrings
    "REPORT": {"report"},
    "Duration Billed": {"report"},
    "Duration Missing": set(),
    "report": set(),
    "404": {"not_found", "apache", "list"},
    "GET /index.html": {"apache_ok"},
    # quoted phrases
    '"Task timed out"': {"timeout"},
    '"ERROR 404"': {"list"},
    '"timed  out"': set(),
    '"GET /apache_pb.gif HTTP/1.0\\""': {"apache"},
    # any of
    "?REPORT ?timed": {"report", "timeout"},
    '?"timed out" ?nope': {"timeout"},
    "?nope ?never": set(),
    # exclusion, and with the others
    "-REPORT": set(LINES) - {"report"},
    "GET -apache_pb": {"apache_ok"},
    "status -ERROR": {"not_found", "resized"},
    "?REPORT ?frank -Billed": {"apache"},
    # regex
    "%Duration: [0-9]+\\.[0-9]+ ms%": {"report"},
    "%^[0-9.]+ - -%": {"apache_ok"},
    # JSON: numbers
    "{ $.status = 404 }": {"not_found"},
    "{$.status=404}": {"not_found"},
    "{ $.status >= 400 }": {"not_found", "crash"},
    "{ $.status > 404 }": {"crash"},
    "{ $.status < 400 }": {"resized"},
    "{ $.status <= 302 }": {"resized"},
    "{ $.status != 404 }": {"resized", "crash"},
    "{ $.ms.total > 12 && $.ms.total < 13 }": {"not_found"},
    "{ $.ms.total = 3 }": {"crash"},
    "{ $.ms.total = 3.0 }": {"crash"},
    "{ $.output_bytes >= 2e4 }": {"resized"},
    # JSON: strings, wildcards, regex
    '{ $.level = "ERROR" }': {"crash"},
    "{ $.level = ERROR }": {"crash"},
    '{ $.level != "ERROR" }': {"not_found", "resized", "list"},
    '{ $.path = "/300x*" }': {"not_found", "resized"},
    "{ $.path = /300x* }": {"not_found", "resized"},
    '{ $.path = "*.png" }': {"crash"},
    '{ $.path = "/300x" }': set(),
    "{ $.path = %cat|dog% }": {"resized", "crash"},
    "{ $.path != %cat|dog% }": {"not_found"},
    '{ $.status = "404" }': set(),  # a string never equals a number
    # JSON: && || and parentheses (&& binds tighter)
    '{ $.status = 404 && $.level = "WARN" }': {"not_found"},
    "{ ($.status = 500) || ($.status = 302) }": {"resized", "crash"},
    '{ $.status = 302 || $.status = 404 && $.level = "INFO" }': {"resized"},
    '{ ($.status = 302 || $.status = 404) && $.level = "WARN" }': {"not_found"},
    # JSON: existence, null, booleans, arrays
    "{ $.error NOT EXISTS }": {"resized", "crash", "list", "array"},
    "{ $.error EXISTS }": {"not_found"},
    "{ $.trace IS NULL }": {"crash"},
    "{ $.cold IS TRUE }": {"crash"},
    "{ $.cold IS FALSE }": set(),
    "{ $.users[0].id = 7 }": {"list"},
    '{ $.users[0].email = "*@example.com" }': {"list"},
    "{ $.users[1].id = 7 }": set(),
    "{ $[1].id = 2 }": {"array"},
    "{ $.nothing != 1 }": set(),  # a comparison needs the value
    # space-delimited
    "[ip, user, username, timestamp, request, status, size]": {"apache", "apache_ok", "list"},  # 7 fields
    "[ip, user, username, timestamp, request, status = 404, size]": {"apache"},
    "[ip, ..., status = 404, size > 1000]": {"apache"},
    "[ip, ..., size > 5000]": {"apache_ok"},
    "[ip, ..., status = 4* || status = 5*, size]": {"apache"},
    "[ip, user, username, timestamp, request, status != 404, size]": {"apache_ok"},
    "[..., word, seconds = seconds]": {"timeout"},
    '[ip, user = "-", ...]': {"apache", "apache_ok"},
    "[ip, user = frank, ...]": set(),
    "[ip, user, username = frank, ...]": {"apache"},
    '[..., request = "GET /index*", status, size]': {"apache_ok"},
    "[..., timestamp = *Oct/2000*, request, status, size]": {"apache", "apache_ok"},
    "[ip, user]": set(),
    "[w1 = REPORT, ...]": {"report"},
    "[w1 = %^REP%, ...]": {"report"},
    "[...]": set(LINES),
}


@pytest.mark.parametrize("pattern", list(CASES))
def test_pattern_matches_exactly_the_expected_lines(pattern: str) -> None:
    matches = compile_pattern(pattern)
    assert {name for name, line in LINES.items() if matches(line)} == CASES[pattern]


def test_a_json_pattern_never_matches_text() -> None:
    matches = compile_pattern("{ $.status NOT EXISTS }")
    assert not matches("status 404")
    assert not matches("{ broken json")
    assert not matches('"a JSON string"')
    assert matches("{}")


INVALID = [
    '"unterminated',
    'bad"quote',
    "? alone",
    "-",
    "%unterminated",
    "%(group)%",
    "%[%",
    "{ $.status = 404",
    "{ }",
    "{ status = 404 }",
    "{ $.status == 404 }",
    "{ $.status = }",
    "{ $.status 404 }",
    '{ $.level > "A" }',
    "{ $.path >= /x* }",
    "{ $.a = 1 && }",
    "{ ($.a = 1 }",
    "{ $.a = 1 ) }",
    "{ $.a IS MAYBE }",
    "{ $.a = 1 } trailing",
    "{ $..a = 1 }",
    "[ip, status = 404",
    "[ip, , status]",
    "[ip, ip]",
    "[ip, status = 404 || size = 3]",
    "[ip, status IS NULL]",
    "[1ip]",
]


@pytest.mark.parametrize("pattern", INVALID)
def test_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"^Invalid filter pattern"):
        compile_pattern(pattern)


# Through moto's FilterLogEvents ----------------------------------------------------------------


@pytest.fixture
def logs(aws_env: None) -> Iterator[object]:
    with patched_moto(log_filter):
        client = boto3.client("logs", region_name=REGION)
        client.create_log_group(logGroupName="g")
        base = int(time.time() * 1000) - 60_000
        for stream, names in (("a", ["not_found", "report", "resized"]), ("b", list(LINES))):
            client.create_log_stream(logGroupName="g", logStreamName=stream)
            events = [
                {"timestamp": base + index * 1000, "message": LINES[name]} for index, name in enumerate(names)
            ]
            client.put_log_events(logGroupName="g", logStreamName=stream, logEvents=events)
        yield client


def messages(client, *, start: int | None = None, end: int | None = None, **query: object) -> list[str]:
    """The messages of every page; start and end are offsets (ms) from the first event."""
    base = client.filter_log_events(logGroupName="g", logStreamNames=["a"], limit=1)["events"][0]["timestamp"]
    if start is not None:
        query["startTime"] = base + start
    if end is not None:
        query["endTime"] = base + end
    events, token = [], None
    while True:
        page = client.filter_log_events(logGroupName="g", **query, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            return [event["message"] for event in events]


def test_filter_log_events_returns_exactly_the_matching_events(logs) -> None:
    assert messages(logs, filterPattern="{ $.status = 404 }") == [NOT_FOUND, NOT_FOUND]
    assert messages(logs, filterPattern='{ $.level = "ERROR" }') == [CRASH]
    assert sorted(messages(logs, filterPattern="?REPORT ?timed")) == sorted([REPORT, REPORT, TIMEOUT])
    assert messages(logs, filterPattern="[ip, ..., status = 404, size > 1000]") == [APACHE]
    assert len(messages(logs)) == 3 + len(LINES)


def test_filter_log_events_keeps_streams_time_range_and_pages(logs) -> None:
    pattern = "{ $.status >= 300 }"
    assert messages(logs, filterPattern=pattern, logStreamNames=["a"]) == [NOT_FOUND, RESIZED]
    assert messages(logs, filterPattern=pattern, logStreamNames=["b"], start=1000) == [RESIZED, CRASH]
    assert messages(logs, filterPattern=pattern, end=500) == [NOT_FOUND, NOT_FOUND]
    paged = messages(logs, filterPattern=pattern, limit=1, interleaved=True)
    assert sorted(paged) == sorted([NOT_FOUND, RESIZED, NOT_FOUND, RESIZED, CRASH])


def test_an_invalid_pattern_is_the_aws_error(logs) -> None:
    with pytest.raises(ClientError) as error:
        logs.filter_log_events(logGroupName="g", filterPattern="{ $.status = ")
    assert error.value.response["Error"]["Code"] == "InvalidParameterException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error.value.response["Error"]["Message"].startswith("Invalid filter pattern")
    logs.create_log_group(logGroupName="empty")
    with pytest.raises(ClientError, match="InvalidParameterException"):
        logs.filter_log_events(logGroupName="empty", filterPattern="[a, a]")


def test_uninstall_gives_moto_back(logs) -> None:
    log_filter.uninstall()
    try:
        # moto's own filter matches every event for a JSON pattern
        assert len(messages(logs, filterPattern="{ $.status = 404 }")) == 3 + len(LINES)
    finally:
        log_filter.install()
    assert len(messages(logs, filterPattern="{ $.status = 404 }")) == 2


def test_a_live_tail_over_two_groups_tails_each_once(logs) -> None:
    """moto resolved every ARN to the last group created; AWS takes each group by its ARN."""
    logs.create_log_group(logGroupName="h")
    logs.create_log_stream(logGroupName="h", logStreamName="c")
    logs.put_log_events(
        logGroupName="h",
        logStreamName="c",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "from h"}],
    )
    arns = {g["logGroupName"]: g["arn"].removesuffix(":*") for g in logs.describe_log_groups()["logGroups"]}
    stream = logs.start_live_tail(logGroupIdentifiers=[arns["g"], arns["h"]])["responseStream"]
    found = [e for m in stream for e in m.get("sessionUpdate", {}).get("sessionResults", [])]
    by_group = {arn: [e["message"] for e in found if e["logGroupIdentifier"] == arn] for arn in arns.values()}
    assert by_group[arns["h"]] == ["from h"]
    assert len(by_group[arns["g"]]) == len(found) - 1 > 0 and "from h" not in by_group[arns["g"]]
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.start_live_tail(logGroupIdentifiers=[arns["g"].replace(":log-group:g", ":log-group:nope")])
