"""What one console process holds: its settings, AWS target, sessions, runs, plans and saved events.

Routes reach it as ``request.app.state.console`` (``of(request)``). Plans are kept in memory by id
between the Plan and the Execute/Discard buttons; a restart forgets them (their change sets stay
in CloudFormation until executed or deleted, as with a declined CLI deploy).
"""

import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from console.runs import Runs
from console.saved_events import EventStore
from console.security import Sessions
from console.settings import ConsoleSettings
from console.workspace import Workspace
from operations.deploy import Plan

KEEP_PLANS = 50


@dataclass
class PlanEntry:
    id: str
    plan: Plan
    clients: Any  # the Clients the plan was made with: executing or discarding it uses the same
    created: float = field(default_factory=time.time)
    run_id: str | None = None
    discarded: bool = False


class Plans:
    def __init__(self) -> None:
        self._plans: dict[str, PlanEntry] = {}
        self._lock = threading.Lock()

    def add(self, plan: Plan, clients: Any) -> PlanEntry:
        entry = PlanEntry(secrets.token_urlsafe(9), plan, clients)
        with self._lock:
            for old in list(self._plans)[: max(0, len(self._plans) + 1 - KEEP_PLANS)]:
                del self._plans[old]
            self._plans[entry.id] = entry
        return entry

    def get(self, plan_id: str) -> PlanEntry | None:
        return self._plans.get(plan_id)

    def recent(self, limit: int = 10) -> list[PlanEntry]:
        return sorted(self._plans.values(), key=lambda e: e.created, reverse=True)[:limit]

    @property
    def lock(self) -> threading.Lock:
        return self._lock


@dataclass
class ConsoleState:
    settings: ConsoleSettings
    workspace: Workspace
    sessions: Sessions
    runs: Runs
    plans: Plans
    events: EventStore


def build(settings: ConsoleSettings) -> ConsoleState:
    workspace = Workspace(settings)
    folder = settings.events_dir if settings.events_dir.is_absolute() else workspace.cwd / settings.events_dir
    return ConsoleState(
        settings=settings,
        workspace=workspace,
        sessions=_sessions(settings),
        runs=Runs(),
        plans=Plans(),
        events=EventStore(folder),
    )


def _sessions(settings: ConsoleSettings) -> Sessions:
    """Sessions; with a login folder (the stored token), logouts are kept there across restarts."""
    folder = settings.login_dir
    if folder is None:
        return Sessions(settings.token, settings.secret, settings.session_hours)
    from operations import console_token

    return Sessions(
        settings.token,
        settings.secret,
        settings.session_hours,
        revoked=console_token.load_revoked(folder),
        on_revoked=lambda revoked: console_token.save_revoked(revoked, folder),
    )


def of(request: Request) -> ConsoleState:
    return request.app.state.console
