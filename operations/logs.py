"""Logs: the functions' CloudWatch Logs, read once or followed, grouped by request.

``events`` pages through FilterLogEvents for a time range and a filter pattern; ``merged``
interleaves several functions' log groups by time, each line saying which function wrote it;
``follow``
keeps polling with a look-back window for late events, de-duplicated by event id, backing off
when throttled. A missing log group means "no logs yet": nothing is yielded, no error.
``grouped`` turns a stream of events into one ``RequestLog`` per START..REPORT.
"""

import heapq
import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from operations.aws import Clients, translated
from operations.errors import ConfigError, throttled
from operations.functions import Function

_RELATIVE = re.compile(r"(\d+)\s*(s|m|h|d|w)")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
ERROR_LEVELS = ("ERROR", "CRITICAL", "FATAL")
ERROR_PATTERN = '?ERROR ?"Task timed out"'  # a loose filter: LogEvent.is_error decides
_ERROR_MARKS = ("[ERROR]", "Task timed out", "Traceback")
_REQUEST_LINE = re.compile(r"^(START|END|REPORT) RequestId: ([0-9a-fA-F-]{8,})")
# Anchored on the tab before each field: "Restore Duration" (SnapStart) is not "Duration".
_REPORT_FIELDS = re.compile(
    r"(?:^|\t)(Duration|Billed Duration|Memory Size|Max Memory Used|Init Duration): ([\d.]+)"
)


def parse_time(text: str, now: datetime | None = None) -> datetime:
    """'10m', '2h', '1d', '1w' ago, 'now', or an ISO 8601 date/time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    value = text.strip()
    if value == "now":
        return now
    if match := _RELATIVE.fullmatch(value):
        try:
            return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
        except OverflowError:
            raise ConfigError(f"{text!r} is too far back") from None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"cannot read the time {text!r}",
            hint="use 10m, 2h, 1d, 1w, now, or ISO 8601 like 2026-11-29T08:00",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class LogEvent:
    """One log line."""

    timestamp: datetime
    message: str
    stream: str = ""
    event_id: str = ""
    function: str = ""  # which of the stack's functions wrote it (resize, cleanup); '' when unsaid

    @property
    def json(self) -> dict | None:
        text = self.message.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
        return None

    @property
    def json_without_emf(self) -> dict | None:
        """The JSON line without its ``_aws`` key (Embedded Metric Format metadata, which says how
        CloudWatch reads the line's metrics and is noise to a reader); None for a text line."""
        data = self.json
        return None if data is None else {k: v for k, v in data.items() if k != "_aws"}

    @property
    def request_marker(self) -> tuple[str, str] | None:
        """('START' | 'END' | 'REPORT', request id) for the runtime's own lines."""
        match = _REQUEST_LINE.match(self.message)
        return (match.group(1), match.group(2)) if match else None

    @property
    def level(self) -> str:
        """The line's level in capitals: a JSON line's ``level``; 'ERROR' for a text line that
        reports an error (a traceback, a timeout, the runtime's [ERROR]); '' when it says none."""
        data = self.json
        if data is not None:
            return str(data.get("level", "")).upper()
        text = self.message
        if any(mark in text for mark in _ERROR_MARKS) or " ERROR " in f" {text} ":
            return "ERROR"
        return ""

    @property
    def is_error(self) -> bool:
        """Whether the line reports an error (a filter pattern may be loose: this is the check)."""
        return self.level in ERROR_LEVELS

    @property
    def request_id(self) -> str:
        """The request the line belongs to: the runtime's START/END/REPORT id, or a JSON line's
        ``request_id`` (``requestId``); '' when the line does not say."""
        marker = self.request_marker
        if marker:
            return marker[1]
        data = self.json or {}
        return str(data.get("request_id") or data.get("requestId") or "")


@dataclass(frozen=True)
class Report:
    """The figures of a REPORT line."""

    duration_ms: float
    billed_ms: float
    memory_mb: float
    max_memory_mb: float
    init_ms: float | None = None

    @classmethod
    def parse(cls, line: str) -> "Report | None":
        fields = {name: float(value) for name, value in _REPORT_FIELDS.findall(line)}
        if "Duration" not in fields:
            return None
        return cls(
            fields["Duration"],
            fields.get("Billed Duration", 0.0),
            fields.get("Memory Size", 0.0),
            fields.get("Max Memory Used", 0.0),
            fields.get("Init Duration"),
        )


@dataclass
class RequestLog:
    """The lines of one request, START to REPORT."""

    request_id: str
    events: list[LogEvent] = field(default_factory=list)

    @property
    def report(self) -> Report | None:
        for event in reversed(self.events):
            if event.request_marker and event.request_marker[0] == "REPORT":
                return Report.parse(event.message)
        return None

    @property
    def complete(self) -> bool:
        return self.report is not None


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _event(raw: dict, function: str = "") -> LogEvent:
    return LogEvent(
        datetime.fromtimestamp(raw["timestamp"] / 1000, UTC),
        raw.get("message", "").rstrip("\n"),
        raw.get("logStreamName", ""),
        raw.get("eventId", ""),
        function,
    )


@translated
def events(
    clients: Clients,
    group: str,
    *,
    start: datetime,
    end: datetime | None = None,
    pattern: str = "",
    streams: list[str] | None = None,
    limit: int | None = None,
    function: str = "",
) -> Iterator[LogEvent]:
    """Every matching event in [start, end], oldest first; nothing when the group does not exist.
    Each event says ``function`` (the role of the function whose group it is) when given."""
    from botocore.exceptions import ClientError

    logs = clients.client("logs")
    query: dict[str, Any] = {"logGroupName": group, "startTime": _millis(start), "interleaved": True}
    if end is not None:
        query["endTime"] = _millis(end)
    if pattern:
        query["filterPattern"] = pattern
    if streams:
        query["logStreamNames"] = streams
    count = 0
    try:
        for page in logs.get_paginator("filter_log_events").paginate(**query):
            # A stable sort by time keeps the service's order for lines of the same millisecond.
            for raw in sorted(page.get("events", []), key=lambda e: e["timestamp"]):
                yield _event(raw, function)
                count += 1
                if limit is not None and count >= limit:
                    return
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code == "ResourceNotFoundException":
            return  # no logs yet
        if code == "InvalidParameterException" and pattern:
            raise ConfigError(
                f"invalid filter pattern {pattern!r}: {exc.response['Error']['Message']}"
            ) from None
        raise


def merged(
    clients: Clients,
    sources: Sequence[Function],
    *,
    start: datetime,
    end: datetime | None = None,
    pattern: str = "",
    limit: int | None = None,
) -> Iterator[LogEvent]:
    """The matching events of several functions' log groups in [start, end], interleaved by time
    (oldest first), each tagged with its function's role; at most ``limit`` in all."""
    streams = [
        events(clients, s.log_group, start=start, end=end, pattern=pattern, limit=limit, function=s.role)
        for s in sources
    ]
    for count, event in enumerate(heapq.merge(*streams, key=lambda e: e.timestamp), start=1):
        yield event
        if limit is not None and count >= limit:
            return


def _sources(group: "str | Sequence[Function]") -> list[Function]:
    return [Function("", "", group)] if isinstance(group, str) else list(group)


@translated
def follow(
    clients: Clients,
    group: str | Sequence[Function],
    *,
    start: datetime,
    pattern: str = "",
    sleep: Callable[[float], None] = time.sleep,
    poll: float = 1.0,
    lookback: timedelta = timedelta(seconds=30),
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    stop: Callable[[], bool] = lambda: False,
    live: bool | None = None,
    on_sampled: Callable[[bool], None] = lambda sampled: None,
) -> Iterator[LogEvent]:
    """New events until stop(), de-duplicated, tolerant of late arrivals.

    ``group`` is one log group, or the stack's functions (operations.functions) whose groups are
    followed together, each line tagged with its function's role (a group that does not exist
    yet, such as the cleanup's before its first run, adds nothing until it does).

    ``live`` None (the default) chooses: a live tail on AWS (no endpoint URL), polling on any
    other endpoint (the local cloud, moto), so every front end follows logs the same way.
    With live=True the events since start are read once, then a StartLiveTail session
    streams new ones as they are written; when the session ends (AWS closes them after three
    hours) or the endpoint does not offer it, polling FilterLogEvents takes over. CloudWatch
    samples a live tail that gets more than 500 events a second: on_sampled(True) says it has
    started leaving lines out (``sessionMetadata.sampled``), on_sampled(False) that it has stopped.
    """
    seen: OrderedDict[tuple, None] = OrderedDict()

    def fresh(event: LogEvent, occurrences: dict[tuple, int]) -> bool:
        # Live-tail events carry no event id, so the key is what both kinds share, plus which
        # occurrence of that line it is in its batch: identical lines are distinct events.
        line = (event.function, event.stream, event.timestamp, event.message)
        occurrences[line] = occurrences.get(line, 0) + 1
        key = (*line, occurrences[line])
        if key in seen:
            return False
        seen[key] = None
        if len(seen) > 50_000:
            seen.popitem(last=False)
        return True

    sources = _sources(group)
    since = start
    if live is None:
        live = clients.endpoint_url is None
    if live:
        history: dict[tuple, int] = {}
        for event in merged(clients, sources, start=start, pattern=pattern):
            if fresh(event, history):
                since = max(since, event.timestamp)
                yield event
        session: dict[tuple, int] = {}
        for event in _live_tail(clients, sources, pattern, stop, on_sampled):
            if event.timestamp >= start and fresh(event, session):  # never a line from before start
                since = max(since, event.timestamp)
                yield event
        since = max(start, since - lookback)
    delay = poll
    while not stop():
        newest = since
        batch: dict[tuple, int] = {}
        try:
            for event in merged(clients, sources, start=since, pattern=pattern):
                if not fresh(event, batch):
                    continue
                newest = max(newest, event.timestamp)
                yield event
            delay = poll
        except Exception as exc:  # throttled: back off, then carry on
            if not throttled(exc):
                raise
            delay = min(delay * 2, 30.0)
        since = max(start, min(newest, clock()) - lookback)
        sleep(delay)


def _live_tail(
    clients: Clients,
    sources: Sequence[Function],
    pattern: str,
    stop: Callable[[], bool],
    on_sampled: Callable[[bool], None] = lambda sampled: None,
) -> Iterator[LogEvent]:
    """Events from one StartLiveTail session over the sources' groups (a session takes up to 10),
    each tagged with its function (by the event's logGroupIdentifier); nothing if the endpoint or
    the policy does not allow it. A group that does not exist yet is left out of the session."""
    logs = clients.client("logs")
    roles: dict[str, str] = {}  # a group's ARN and its name -> the role of its function
    try:
        for source in sources:
            found = logs.describe_log_groups(logGroupNamePrefix=source.log_group).get("logGroups", [])
            for g in found:
                if g["logGroupName"] == source.log_group:
                    roles[g["arn"].removesuffix(":*")] = roles[source.log_group] = source.role
        arns = [key for key in roles if key.startswith("arn:")]
        if not arns:
            return
        query = {"logGroupIdentifiers": arns, **({"logEventFilterPattern": pattern} if pattern else {})}
        stream = logs.start_live_tail(**query)["responseStream"]
    except Exception:  # not offered here (AccessDenied, unknown operation, no such group): poll instead
        return
    sampled = False
    try:
        for message in stream:
            update = message.get("sessionUpdate", {})
            if bool(update.get("sessionMetadata", {}).get("sampled")) != sampled:
                sampled = not sampled
                on_sampled(sampled)
            for raw in update.get("sessionResults", []):
                yield _event(raw, _role(roles, raw.get("logGroupIdentifier", "")))
            if stop():
                return
    except Exception:  # the session ended or broke: polling takes over
        return
    finally:
        close = getattr(stream, "close", None)
        if close:
            close()


def _role(roles: dict[str, str], identifier: str) -> str:
    """The role of the function whose group ``identifier`` names (an ARN, with or without :*, or a name)."""
    identifier = identifier.removesuffix(":*")
    if identifier in roles:
        return roles[identifier]
    return next((role for key, role in roles.items() if identifier.endswith(f":log-group:{key}")), "")


@translated
def errors(
    clients: Clients, group: str | Sequence[Function], *, start: datetime, limit: int = 500
) -> list[LogEvent]:
    """The lines since start that report an error (ERROR_PATTERN narrows, LogEvent.is_error decides),
    of one log group or of several functions' groups interleaved by time."""
    found = merged(clients, _sources(group), start=start, pattern=ERROR_PATTERN, limit=limit)
    return [e for e in found if e.is_error]


def grouped(stream: Iterable[LogEvent]) -> Iterator[RequestLog | LogEvent]:
    """Group lines START..REPORT of each request (per function and log stream); lines outside one
    pass through."""
    open_requests: dict[tuple[str, str], RequestLog] = {}
    for event in stream:
        marker = event.request_marker
        where = (event.function, event.stream)
        current = open_requests.get(where)
        if marker and marker[0] == "START":
            if current is not None:
                yield current
            open_requests[where] = RequestLog(marker[1], [event])
        elif current is not None:
            current.events.append(event)
            if marker and marker[0] == "REPORT":
                yield open_requests.pop(where)
        else:
            yield event
    yield from open_requests.values()


@translated
def request_log(
    clients: Clients,
    group: str,
    request_id: str,
    *,
    since: datetime,
    sleep: Callable[[float], None] = time.sleep,
    timeout: float = 15.0,
) -> RequestLog | None:
    """The complete lines of one request (START..REPORT), waiting briefly for them to arrive."""
    deadline = time.monotonic() + timeout
    while True:
        markers = list(events(clients, group, start=since, pattern=f'"RequestId: {request_id}"'))
        start = next((e for e in markers if e.request_marker == ("START", request_id)), None)
        report = next((e for e in markers if e.request_marker == ("REPORT", request_id)), None)
        if start and report:
            lines = events(
                clients,
                group,
                start=start.timestamp,
                end=report.timestamp + timedelta(milliseconds=1),
                streams=[start.stream],
            )
            for item in grouped(lines):
                if isinstance(item, RequestLog) and item.request_id == request_id and item.complete:
                    return item
        if time.monotonic() > deadline:
            return None
        sleep(0.5)
