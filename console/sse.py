"""Server-Sent Events: encoding, replaying a Run, and streaming a blocking producer from a thread.

Streams end by themselves (a Run's final event, a producer that returns) or when the client goes
away: ``is_disconnected`` is polled, a keep-alive comment goes out every 15 s (a write is how a
dead connection is noticed), and a producer thread is told to stop through its ``stop`` Event.
"""

import asyncio
import json
import queue
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import StreamingResponse

from console.runs import Run

KEEPALIVE = 15.0
TICK = 0.1
_END = object()


def encode(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


def response(stream: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def last_event_id(request: Request) -> int:
    text = request.headers.get("last-event-id", "")
    return int(text) + 1 if text.isdigit() else 0


async def _polled(request: Request, take: Callable[[], Any]) -> AsyncIterator[str]:
    """Send what ``take()`` returns (an encoded event; None: nothing yet; _END: done), polling every
    TICK while there is nothing, with a keep-alive comment every KEEPALIVE s, until the client leaves."""
    idle = 0.0
    while True:
        item = take()
        if item is _END:
            return
        if item is not None:
            yield item
            idle = 0.0
            continue
        if await request.is_disconnected():
            return
        await asyncio.sleep(TICK)
        idle += TICK
        if idle >= KEEPALIVE:
            yield ": keep-alive\n\n"
            idle = 0.0


def replay(request: Request, run: Run) -> AsyncIterator[str]:
    """Every event of the run from Last-Event-ID on, then the new ones as they come, to the last."""
    sent = last_event_id(request)

    def take() -> Any:
        nonlocal sent
        if sent < len(run.events):
            item = run.events[sent]
            sent += 1
            return encode(item["type"], item, sent - 1)
        return _END if run.done and sent >= len(run.events) else None  # done: the final event is in

    return _polled(request, take)


async def from_thread(
    request: Request,
    produce: Callable[[threading.Event, Callable[[str, Any], None]], None],
    name: str = "console-stream",
) -> AsyncIterator[str]:
    """Run ``produce(stop, emit)`` in a thread and stream what it emits; stop it when the client leaves."""
    items: queue.Queue = queue.Queue(maxsize=10_000)
    stop = threading.Event()

    def emit(event: str, data: Any) -> None:
        while not stop.is_set():
            try:
                items.put((event, data), timeout=0.5)
                return
            except queue.Full:
                continue

    def run() -> None:
        try:
            produce(stop, emit)
        finally:
            items.put(_END)

    count = 0

    def take() -> Any:
        nonlocal count
        try:
            item = items.get_nowait()
        except queue.Empty:
            return None
        if item is _END:
            return _END
        count += 1
        return encode(item[0], item[1], count - 1)

    threading.Thread(target=run, name=name, daemon=True).start()
    try:
        async for text in _polled(request, take):
            yield text
    finally:
        stop.set()
