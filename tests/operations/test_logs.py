"""operations.logs: time parsing, REPORT lines, grouping by request (no AWS), then events, follow and
request_log against moto's CloudWatch Logs with real log events put through boto3."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from operations import logs
from operations.aws import Clients
from operations.errors import AccessDenied, AwsError, ConfigError
from operations.logs import LogEvent, Report, RequestLog

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)

REQUEST_A = "8f5a2c1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"
REQUEST_B = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
REPORT_COLD = (
    f"REPORT RequestId: {REQUEST_A}\tDuration: 123.45 ms\tBilled Duration: 124 ms\t"
    "Memory Size: 1024 MB\tMax Memory Used: 87 MB\tInit Duration: 456.78 ms\t"
)
REPORT_WARM = (
    f"REPORT RequestId: {REQUEST_B}\tDuration: 7.02 ms\tBilled Duration: 8 ms\t"
    "Memory Size: 1024 MB\tMax Memory Used: 88 MB\t"
)


# --- parse_time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("10m", timedelta(minutes=10)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        (" 3h ", timedelta(hours=3)),
        ("now", timedelta(0)),
    ],
)
def test_parse_time_relative(text: str, ago: timedelta) -> None:
    assert logs.parse_time(text, now=NOW) == NOW - ago


def test_parse_time_defaults_to_the_current_time() -> None:
    before = datetime.now(UTC)
    parsed = logs.parse_time("1h")
    after = datetime.now(UTC)
    assert before - timedelta(hours=1) <= parsed <= after - timedelta(hours=1)
    assert parsed.tzinfo is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-29", datetime(2026, 11, 29, tzinfo=UTC)),
        ("2026-11-29T08:00", datetime(2026, 11, 29, 8, 0, tzinfo=UTC)),
        ("2026-11-29T08:00:05Z", datetime(2026, 11, 29, 8, 0, 5, tzinfo=UTC)),
        ("2026-11-29T08:00:00+02:00", datetime(2026, 11, 29, 6, 0, tzinfo=UTC)),
        ("2026-11-29T08:00:00-05:30", datetime(2026, 11, 29, 13, 30, tzinfo=UTC)),
        ("2026-11-29 08:00:00.250Z", datetime(2026, 11, 29, 8, 0, 0, 250000, tzinfo=UTC)),
    ],
)
def test_parse_time_iso(text: str, expected: datetime) -> None:
    parsed = logs.parse_time(text, now=NOW)
    assert parsed == expected
    assert parsed.utcoffset() is not None, "always an aware datetime (naive means UTC)"


def test_parse_time_keeps_the_given_offset() -> None:
    parsed = logs.parse_time("2026-11-29T08:00:00+02:00", now=NOW)
    assert parsed.utcoffset() == timedelta(hours=2)
    assert logs.parse_time("2026-11-29T08:00", now=NOW).utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["", "yesterday", "10", "10 minutes", "m10", "-5m", "10y", "2026-13-01", "1.5h"]
)
def test_parse_time_invalid_is_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as raised:
        logs.parse_time(text, now=NOW)
    assert repr(text) in raised.value.message
    assert "10m" in raised.value.hint and "ISO 8601" in raised.value.hint


def test_parse_time_far_too_far_back_is_a_config_error_not_a_crash() -> None:
    # 99999999 days before now is before year 1: the user's input is invalid (exit 2), not a bug (exit 70).
    with pytest.raises(ConfigError):
        logs.parse_time("99999999d", now=NOW)


# --- Report ---------------------------------------------------------------------------------------


def test_report_parse_a_cold_start() -> None:
    assert Report.parse(REPORT_COLD) == Report(123.45, 124.0, 1024.0, 87.0, 456.78)


def test_report_parse_a_warm_start_has_no_init() -> None:
    report = Report.parse(REPORT_WARM)
    assert report == Report(7.02, 8.0, 1024.0, 88.0, None)
    assert report.init_ms is None


def test_report_parse_a_timeout_report_line() -> None:
    line = (
        f"REPORT RequestId: {REQUEST_A}\tDuration: 1000.00 ms\tBilled Duration: 1000 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 0 MB\tStatus: timeout"
    )
    assert Report.parse(line) == Report(1000.0, 1000.0, 128.0, 0.0, None)


def test_report_parse_a_snapstart_line_keeps_the_invocation_duration() -> None:
    # The format AWS documents for SnapStart functions: "Restore Duration" and "Billed Restore
    # Duration" follow; neither is the invocation's Duration.
    line = (
        f"REPORT RequestId: {REQUEST_A}\tDuration: 8.60 ms\tBilled Duration: 395 ms\tMemory Size: 512 MB\t"
        "Max Memory Used: 104 MB\tRestore Duration: 586.95 ms\tBilled Restore Duration: 386 ms"
    )
    report = Report.parse(line)
    assert report is not None
    assert report.duration_ms == 8.60
    assert report.billed_ms == 395.0


@pytest.mark.parametrize("line", ["", "START RequestId: abc Version: $LATEST", "hello Duration? none"])
def test_report_parse_without_a_duration(line: str) -> None:
    assert Report.parse(line) is None


# --- LogEvent -------------------------------------------------------------------------------------


def event(message: str, stream: str = "s1", second: int = 0, event_id: str = "") -> LogEvent:
    return LogEvent(NOW + timedelta(seconds=second), message, stream, event_id)


@pytest.mark.parametrize(
    ("message", "marker"),
    [
        (f"START RequestId: {REQUEST_A} Version: $LATEST", ("START", REQUEST_A)),
        (f"END RequestId: {REQUEST_A}", ("END", REQUEST_A)),
        (REPORT_COLD, ("REPORT", REQUEST_A)),
        (f"START RequestId: {REQUEST_B.upper()} Version: 3", ("START", REQUEST_B.upper())),
    ],
)
def test_request_marker(message: str, marker: tuple[str, str]) -> None:
    assert event(message).request_marker == marker


@pytest.mark.parametrize(
    "message",
    [
        "INIT_START Runtime Version: python:3.12.v40",
        f"  START RequestId: {REQUEST_A}",
        f"the START RequestId: {REQUEST_A} of something",
        "START RequestId: nothex!",
        f'{{"message": "START RequestId: {REQUEST_A}"}}',
        f"2026-03-14T15:09:26.000Z\t{REQUEST_A}\t[ERROR] boom",
    ],
)
def test_no_request_marker(message: str) -> None:
    assert event(message).request_marker is None


def test_json_of_a_json_line() -> None:
    line = event('  {"request_id": "r1", "status": 404, "_aws": {"Timestamp": 1}}  ')
    assert line.json == {"request_id": "r1", "status": 404, "_aws": {"Timestamp": 1}}


@pytest.mark.parametrize("message", ["[1, 2]", "{not json", "plain text {}", '"{}"', "", "{"])
def test_json_of_other_lines_is_none(message: str) -> None:
    assert event(message).json is None


# --- grouped --------------------------------------------------------------------------------------


def lines_of(request_id: str, stream: str, first_second: int, *middle: str) -> list[LogEvent]:
    messages = [f"START RequestId: {request_id} Version: $LATEST", *middle, f"END RequestId: {request_id}"]
    messages.append(f"REPORT RequestId: {request_id}\tDuration: 5.00 ms\tBilled Duration: 5 ms\t")
    return [event(m, stream, first_second + i) for i, m in enumerate(messages)]


def test_grouped_interleaved_streams() -> None:
    a = lines_of(REQUEST_A, "stream-a", 0, '{"status": 200}')
    b = lines_of(REQUEST_B, "stream-b", 0, '{"status": 404}', "second line")
    interleaved = sorted(a + b, key=lambda e: e.timestamp)  # a0 b0 a1 b1 ...

    items = list(logs.grouped(interleaved))

    assert [type(i) for i in items] == [RequestLog, RequestLog]
    by_id = {item.request_id: item for item in items}
    assert by_id[REQUEST_A].events == a
    assert by_id[REQUEST_B].events == b
    assert by_id[REQUEST_A].complete and by_id[REQUEST_A].report == Report(5.0, 5.0, 0.0, 0.0, None)
    assert items[0].request_id == REQUEST_A, "the first to finish comes first"


def test_grouped_passes_lines_outside_a_request_through_in_order() -> None:
    init = event("INIT_START Runtime Version: python:3.12", "s1", 0)
    stray = event("a line from another tool", "s2", 1)
    request = lines_of(REQUEST_A, "s1", 2, "inside")
    after = event("after the request", "s1", 10)

    items = list(logs.grouped([init, stray, *request, after]))

    assert items[0] is init and items[1] is stray
    assert isinstance(items[2], RequestLog) and items[2].events == request
    assert items[3] is after
    assert len(items) == 4


def test_grouped_yields_an_unfinished_request_at_the_end() -> None:
    finished = lines_of(REQUEST_B, "s2", 0)
    started = [event(f"START RequestId: {REQUEST_A} Version: $LATEST", "s1", 1), event("working", "s1", 2)]

    items = list(logs.grouped([started[0], *finished, started[1]]))

    assert [i.request_id for i in items] == [REQUEST_B, REQUEST_A]
    unfinished = items[1]
    assert unfinished.events == started
    assert not unfinished.complete and unfinished.report is None


def test_grouped_a_new_start_in_the_same_stream_closes_the_unfinished_one() -> None:
    # A worker killed by a timeout: its stream has START without REPORT, then the next request.
    first = event(f"START RequestId: {REQUEST_A} Version: $LATEST", "s1", 0)
    second = lines_of(REQUEST_B, "s1", 1)

    items = list(logs.grouped([first, *second]))

    assert [(i.request_id, len(i.events), i.complete) for i in items] == [
        (REQUEST_A, 1, False),
        (REQUEST_B, 3, True),
    ]


def test_grouped_of_nothing() -> None:
    assert list(logs.grouped([])) == []


# --- against moto ---------------------------------------------------------------------------------

GROUP = "/aws/lambda/resizer-resize"


def millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class LogWriter:
    """Puts real log events into moto's CloudWatch Logs, one stream at a time."""

    def __init__(self, clients: Clients, group: str = GROUP) -> None:
        self.logs = clients.client("logs")
        self.group = group
        self.streams: set[str] = set()
        self.logs.create_log_group(logGroupName=group)

    def put(self, stream: str, *lines: tuple[datetime, str]) -> None:
        if stream not in self.streams:
            self.logs.create_log_stream(logGroupName=self.group, logStreamName=stream)
            self.streams.add(stream)
        reply = self.logs.put_log_events(
            logGroupName=self.group,
            logStreamName=stream,
            logEvents=[{"timestamp": millis(t), "message": m} for t, m in lines],
        )
        assert not reply.get("rejectedLogEventsInfo"), reply


@pytest.fixture
def now() -> datetime:
    # moto refuses events more than 14 days old: work relative to the real clock, in whole ms.
    moment = datetime.now(UTC) - timedelta(minutes=30)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@pytest.fixture
def writer(clients: Clients) -> LogWriter:
    return LogWriter(clients)


def test_events_in_a_time_range_oldest_first_across_streams(clients: Clients, writer: LogWriter, now) -> None:
    writer.put("s1", (now - timedelta(minutes=10), "too old"), (now - timedelta(minutes=4), "s1 first"))
    writer.put("s2", (now - timedelta(minutes=5), "s2 first"), (now - timedelta(minutes=3), "s2 second"))
    writer.put("s1", (now - timedelta(minutes=2), "s1 last"), (now + timedelta(minutes=1), "too new"))

    found = list(logs.events(clients, GROUP, start=now - timedelta(minutes=6), end=now))

    assert [e.message for e in found] == ["s2 first", "s1 first", "s2 second", "s1 last"]
    assert [e.stream for e in found] == ["s2", "s1", "s2", "s1"]
    assert found[0].timestamp == now - timedelta(minutes=5)
    assert all(e.event_id for e in found) and len({e.event_id for e in found}) == 4


def test_events_bounds_are_inclusive_and_end_is_optional(clients: Clients, writer: LogWriter, now) -> None:
    writer.put(
        "s1", (now, "at start"), (now + timedelta(seconds=1), "at end"), (now + timedelta(seconds=2), "x")
    )

    bounded = list(logs.events(clients, GROUP, start=now, end=now + timedelta(seconds=1)))
    open_ended = list(logs.events(clients, GROUP, start=now))

    assert [e.message for e in bounded] == ["at start", "at end"]
    assert [e.message for e in open_ended] == ["at start", "at end", "x"]


def test_events_strips_the_trailing_newline(clients: Clients, writer: LogWriter, now) -> None:
    writer.put("s1", (now, "printed by the handler\n"))
    assert [e.message for e in logs.events(clients, GROUP, start=now)] == ["printed by the handler"]


def test_events_passes_the_pattern_and_streams_through(clients: Clients, writer: LogWriter, now) -> None:
    writer.put("s1", (now, "INFO all fine"), (now + timedelta(seconds=1), "ERROR it broke"))
    writer.put("s2", (now + timedelta(seconds=2), "ERROR elsewhere"))

    errors = list(logs.events(clients, GROUP, start=now, pattern="ERROR"))
    in_s2 = list(logs.events(clients, GROUP, start=now, streams=["s2"]))
    quoted = list(logs.events(clients, GROUP, start=now, pattern='"it broke"'))

    assert [e.message for e in errors] == ["ERROR it broke", "ERROR elsewhere"]
    assert [e.message for e in in_s2] == ["ERROR elsewhere"]
    assert [e.message for e in quoted] == ["ERROR it broke"]


def test_events_limit(clients: Clients, writer: LogWriter, now) -> None:
    writer.put("s1", *[(now + timedelta(seconds=i), f"line {i}") for i in range(5)])
    assert [e.message for e in logs.events(clients, GROUP, start=now, limit=2)] == ["line 0", "line 1"]


def test_events_pages_through_everything(clients: Clients, writer: LogWriter, now) -> None:
    writer.put("s1", *[(now + timedelta(milliseconds=i), f"line {i}") for i in range(5_000)])
    writer.put("s1", *[(now + timedelta(milliseconds=i), f"line {i}") for i in range(5_000, 10_050)])
    found = list(logs.events(clients, GROUP, start=now))
    assert len(found) == 10_050
    assert found[-1].message == "line 10049"


def test_events_keep_the_order_of_lines_logged_in_the_same_millisecond(
    clients: Clients, writer: LogWriter, now, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The Lambda runtime writes one invocation's lines with one timestamp. moto (so the local cloud)
    # numbers events 8, 9, 10, 11: their ids are not in lexical order, the service's order is right.
    from moto.logs.models import LogEvent as MotoLogEvent

    monkeypatch.setattr(MotoLogEvent, "_event_id", 8)
    lines = lines_of(REQUEST_A, "s1", 0, '{"status": 200}')
    writer.put("s1", *[(now, e.message) for e in lines])

    found = list(logs.events(clients, GROUP, start=now))

    assert [e.message for e in found] == [e.message for e in lines]
    grouped = list(logs.grouped(found))
    assert len(grouped) == 1 and isinstance(grouped[0], RequestLog) and grouped[0].complete


def test_events_of_a_missing_group_is_nothing(clients: Clients, now) -> None:
    assert list(logs.events(clients, "/aws/lambda/never-ran", start=now - timedelta(days=1))) == []


class FakeLogs:
    """A logs client whose FilterLogEvents pages are scripted: a list of pages or exceptions per call."""

    def __init__(self, *calls: Any) -> None:
        self.calls = list(calls)
        self.queries: list[dict] = []

    def get_paginator(self, name: str) -> "FakeLogs":
        assert name == "filter_log_events"
        return self

    def paginate(self, **query: Any) -> Any:
        self.queries.append(query)
        outcome = self.calls.pop(0) if self.calls else []
        if isinstance(outcome, Exception):
            raise outcome
        return iter(outcome)


class FakeClients:
    endpoint_url = "http://127.0.0.1:9"  # not AWS: follow polls, as on the local cloud

    def __init__(self, fake: FakeLogs) -> None:
        self.fake = fake

    def client(self, service: str, *, retries: bool = True) -> Any:
        assert service == "logs"
        return self.fake


def client_error(code: str, message: str = "nope") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "FilterLogEvents")


def test_events_with_an_invalid_pattern_is_a_config_error(now) -> None:
    fake = FakeLogs(client_error("InvalidParameterException", "Invalid filter pattern"))
    with pytest.raises(ConfigError) as raised:
        list(logs.events(FakeClients(fake), GROUP, start=now, pattern="{ $.status = }"))
    assert "{ $.status = }" in raised.value.message and "Invalid filter pattern" in raised.value.message
    assert fake.queries[0]["filterPattern"] == "{ $.status = }"


def test_events_other_errors_are_translated(now) -> None:
    fake = FakeLogs(client_error("ServiceUnavailableException"))
    with pytest.raises(AwsError) as raised:
        list(logs.events(FakeClients(fake), GROUP, start=now))
    assert raised.value.code == "ServiceUnavailableException"


def test_events_query(now) -> None:
    fake = FakeLogs([{"events": []}])
    end = now + timedelta(minutes=1)
    list(logs.events(FakeClients(fake), GROUP, start=now, end=end, pattern="ERROR", streams=["a"]))
    assert fake.queries == [
        {
            "logGroupName": GROUP,
            "startTime": millis(now),
            "endTime": millis(end),
            "interleaved": True,
            "filterPattern": "ERROR",
            "logStreamNames": ["a"],
        }
    ]


# --- follow ---------------------------------------------------------------------------------------


class Polls:
    """An injected sleep: runs the next scripted action at each poll; stop() once they are all done."""

    def __init__(self, *actions: Any) -> None:
        self.actions = list(actions)
        self.total = len(actions)
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        if self.actions:
            self.actions.pop(0)()

    def stop(self) -> bool:
        """True after one more poll than there are actions (each action is followed by a poll)."""
        return len(self.slept) > self.total


def test_follow_yields_each_event_once_across_polls(clients: Clients, writer: LogWriter, now) -> None:
    writer.put("s1", (now, "one"), (now + timedelta(seconds=1), "two"))
    polls = Polls(
        lambda: writer.put("s1", (now + timedelta(seconds=2), "three")),
        lambda: None,  # nothing new: the same look-back window is read again
        lambda: writer.put("s2", (now + timedelta(seconds=3), "four")),
        lambda: None,
    )

    found = list(
        logs.follow(
            clients,
            GROUP,
            start=now - timedelta(minutes=1),
            sleep=polls.sleep,
            poll=0.25,
            clock=lambda: now + timedelta(seconds=5),
            stop=polls.stop,
        )
    )

    assert [e.message for e in found] == ["one", "two", "three", "four"]
    assert polls.slept == [0.25] * 5


def test_follow_picks_up_a_late_event_within_the_look_back(clients: Clients, writer: LogWriter, now) -> None:
    writer.put("s1", (now, "newest so far"))
    polls = Polls(
        # arrives after the first poll, stamped 20 s before the newest event seen: inside 30 s
        lambda: writer.put("s2", (now - timedelta(seconds=20), "late")),
        lambda: None,
    )

    found = list(
        logs.follow(
            clients,
            GROUP,
            start=now - timedelta(minutes=5),
            sleep=polls.sleep,
            lookback=timedelta(seconds=30),
            clock=lambda: now + timedelta(seconds=1),
            stop=polls.stop,
        )
    )

    assert [e.message for e in found] == ["newest so far", "late"]


def test_follow_does_not_go_back_before_start(clients: Clients, writer: LogWriter, now) -> None:
    writer.put("s1", (now - timedelta(seconds=10), "before start"), (now, "after start"))
    polls = Polls(lambda: None, lambda: None)
    found = list(
        logs.follow(
            clients,
            GROUP,
            start=now - timedelta(seconds=1),
            sleep=polls.sleep,
            clock=lambda: now + timedelta(seconds=1),
            stop=polls.stop,
        )
    )
    assert [e.message for e in found] == ["after start"]


def test_follow_a_group_that_appears_later(clients: Clients, now) -> None:
    holder: dict[str, LogWriter] = {}

    def create() -> None:
        holder["w"] = LogWriter(clients, "/aws/lambda/later")
        holder["w"].put("s1", (now, "first ever"))

    polls = Polls(lambda: None, create, lambda: None)
    found = list(
        logs.follow(
            clients,
            "/aws/lambda/later",
            start=now - timedelta(minutes=1),
            sleep=polls.sleep,
            clock=lambda: now,
            stop=polls.stop,
        )
    )
    assert [e.message for e in found] == ["first ever"]


@pytest.mark.parametrize("code", ["ThrottlingException", "TooManyRequestsException"])
def test_follow_backs_off_when_throttled_then_carries_on(now, code: str) -> None:
    page = {"events": [{"timestamp": millis(now), "message": "hi", "logStreamName": "s", "eventId": "1"}]}
    fake = FakeLogs(
        client_error(code),
        client_error(code),
        [page],
        [page],
    )
    polls = Polls(lambda: None, lambda: None, lambda: None, lambda: None)

    found = list(
        logs.follow(
            FakeClients(fake),
            GROUP,
            start=now,
            sleep=polls.sleep,
            poll=1.0,
            clock=lambda: now,
            stop=polls.stop,
        )
    )

    assert [e.message for e in found] == ["hi"]
    assert polls.slept == [2.0, 4.0, 1.0, 1.0, 1.0]


def test_follow_raises_other_errors(now) -> None:
    fake = FakeLogs(client_error("AccessDeniedException"))
    polls = Polls(lambda: None)
    with pytest.raises(AccessDenied):
        list(logs.follow(FakeClients(fake), GROUP, start=now, sleep=polls.sleep, stop=polls.stop))
    assert polls.slept == []


# --- request_log ----------------------------------------------------------------------------------


def test_request_log_finds_one_request_among_others(clients: Clients, writer: LogWriter, now) -> None:
    a = lines_of(REQUEST_A, "", 0, '{"status": 200}', "another line")
    b = lines_of(REQUEST_B, "", 0, '{"status": 404}')
    for i in range(max(len(a), len(b))):  # written interleaved, each in its own stream
        if i < len(a):
            writer.put("stream-a", (now + timedelta(seconds=i), a[i].message))
        if i < len(b):
            writer.put("stream-b", (now + timedelta(seconds=i), b[i].message))
    writer.put("stream-a", (now + timedelta(seconds=30), "after, not part of it"))

    found = logs.request_log(
        clients, GROUP, REQUEST_A, since=now - timedelta(seconds=5), sleep=lambda s: None
    )

    assert found is not None and found.request_id == REQUEST_A
    assert [e.message for e in found.events] == [e.message for e in a]
    assert found.complete and found.report.duration_ms == 5.0
    assert {e.stream for e in found.events} == {"stream-a"}


def test_request_log_of_an_unknown_request_gives_up(clients: Clients, writer: LogWriter, now) -> None:
    writer.put(
        "s1", *[(now + timedelta(seconds=i), e.message) for i, e in enumerate(lines_of(REQUEST_B, "", 0))]
    )
    sleeps: list[float] = []
    found = logs.request_log(clients, GROUP, REQUEST_A, since=now, sleep=sleeps.append, timeout=0)
    assert found is None
    assert sleeps == []


def test_request_log_waits_for_the_report(clients: Clients, writer: LogWriter, now) -> None:
    lines = lines_of(REQUEST_A, "", 0, "working")
    writer.put("s1", *[(now + timedelta(seconds=i), e.message) for i, e in enumerate(lines[:2])])
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        writer.put("s1", *[(now + timedelta(seconds=2 + i), e.message) for i, e in enumerate(lines[2:])])

    found = logs.request_log(clients, GROUP, REQUEST_A, since=now, sleep=sleep, timeout=30)

    assert sleeps == [0.5]
    assert found is not None and [e.message for e in found.events] == [e.message for e in lines]


def test_follow_keeps_identical_lines_that_are_distinct_events(
    clients: Clients, writer: LogWriter, now
) -> None:
    # The local runtime stamps every line of one invocation with the same millisecond, and a handler
    # may well print the same line twice: they are two events (two ids), both must be shown.
    writer.put("s1", (now, "retrying"), (now, "retrying"), (now, "gave up"))
    polls = Polls(lambda: writer.put("s1", (now + timedelta(seconds=1), "retrying")), lambda: None)

    found = list(
        logs.follow(
            clients,
            GROUP,
            start=now - timedelta(minutes=1),
            sleep=polls.sleep,
            clock=lambda: now + timedelta(seconds=2),
            stop=polls.stop,
        )
    )

    assert [e.message for e in found] == ["retrying", "retrying", "gave up", "retrying"]
    assert len({e.event_id for e in found}) == 4
