"""Browser tests: a real local cloud and a real console process, driven by a real Chromium.

Everything here is session-scoped and started once: the local-cloud server on a free port
(temporary data folder and package cache, provisioned with ``operations.local.provision`` as
`resizer up` does), the console (``python -m console``, its token in the environment, run from a
temporary folder) pointed at it, one headless Chromium (``$CHROMIUM``, or the first that
tools/chromium.py finds; none: the run stops at collection with one line saying what to run)
and one logged-in page. Every process is
stopped at the end (terminate, then kill after a timeout).

``Watcher`` hooks every browser context the tests open: console errors, uncaught page errors,
``securitypolicyviolation`` events (reported by an init script through an exposed binding) and
the HTML of every document the console served, for the security test at the end.
"""

import contextlib
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from localcloud.process import DidNotStart, child_command, free_port, running, started, stop
from operations import local
from tests.conftest import no_aws_env
from tools import chromium

# The console still links images on the website (the cdn links are the console's own change).
WEBSITE = {"Delivery": "website"}

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "browser"
TOKEN = "browser-test-token-5c1e9a7d3b"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}
CSP_REPORTER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__reportCsp({
    page: location.href,
    directive: e.violatedDirective,
    blocked: e.blockedURI,
    sample: e.sample,
  });
});
"""


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass(frozen=True)
class Stack:
    """The provisioned local cloud and the console in front of it."""

    endpoint_url: str
    outputs: dict[str, str]
    console_url: str
    token: str

    @property
    def website(self) -> str:
        return self.outputs["WebsiteUrl"]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("resizer-cache")


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[local.Ready]:
    """A local-cloud server process with the stack deployed and sample.jpg uploaded."""
    folder = tmp_path_factory.mktemp("localcloud")
    with running(folder / "data", log=folder / "server.log") as url:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("RESIZER_CACHE_DIR", str(cache_dir))
            found = [
                e
                for e in local.provision(url, parameters=WEBSITE, sleep=lambda s: None)
                if isinstance(e, local.Ready)
            ]
        assert found, "provisioning did not end with Ready"
        yield found[-1]


def listening(port: int) -> Callable[[subprocess.Popen], bool]:
    def ready(_: subprocess.Popen) -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
        return False

    return ready


@pytest.fixture(scope="session")
def stack(cloud: local.Ready, tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Iterator[Stack]:
    """A console process (`python -m console`) operating on the local cloud's stack."""
    folder = tmp_path_factory.mktemp("console")
    port = free_port()
    env = no_aws_env(cache_dir) | {
        "RESIZER_CONSOLE_TOKEN": TOKEN,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH", "")])),
    }
    # the console ends with this process, even when pytest is killed
    command = child_command("console", "--port", str(port), "--endpoint-url", cloud.endpoint_url)
    command += ["--region", "us-east-1", "--quiet"]
    log = folder / "console.log"
    with log.open("wb") as out:
        try:
            process = started(
                command,
                listening(port),
                timeout=30,
                env=env,
                cwd=folder,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        except DidNotStart as failed:
            pytest.fail(f"the console did not listen on {port} ({failed}):\n{tail(log)}")
    try:
        yield Stack(cloud.endpoint_url, dict(cloud.outputs), f"http://127.0.0.1:{port}", TOKEN)
    finally:
        stop(process, grace=20)
        print(f"\nconsole log ({log}):\n{tail(log)}")


@dataclass
class Watcher:
    """What the browser reported while the tests ran, across every context they opened."""

    console_errors: list[str] = field(default_factory=list)
    expected_errors: list[str] = field(default_factory=list)  # set aside by the test causing them
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[dict[str, Any]] = field(default_factory=list)
    documents: list[tuple[str, str]] = field(default_factory=list)  # (url, HTML) the console served
    console_origin: str = ""

    def attach(self, context: Any) -> None:
        context.expose_binding("__reportCsp", lambda source, report: self.csp_violations.append(report))
        context.add_init_script(CSP_REPORTER)
        context.on("console", self._console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        context.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def _response(self, response: Any) -> None:
        if (
            response.request.resource_type == "document"
            and response.url.startswith(self.console_origin)
            and not 300 <= response.status < 400  # a redirect has no body to read
        ):
            try:
                self.documents.append((response.url, response.text()))
            except Exception as exc:  # a body the browser dropped (a navigation raced it)
                self.documents.append((response.url, f"<unreadable body: {exc}>"))


@pytest.fixture(scope="session")
def watcher(stack: Stack) -> Watcher:
    return Watcher(console_origin=stack.console_url)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """No Chromium: stop once, in one line that says what to run (not one error per test)."""
    here = Path(__file__).parent
    if any(here in Path(str(item.path)).parents for item in items) and chromium.find() is None:
        pytest.exit(chromium.advice(), returncode=1)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium.find()
    assert executable, chromium.advice()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def new_context(browser: Any, watcher: Watcher) -> Iterator[Callable[..., Any]]:
    """Open a watched browser context; all are closed at the end of the session."""
    opened: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(viewport=VIEWPORT, **options)
        context.set_default_timeout(15_000)
        watcher.attach(context)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


def log_in(page: Any, stack: Stack, token: str) -> None:
    page.goto(f"{stack.console_url}/login")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")


@pytest.fixture(scope="session")
def page(new_context: Callable[..., Any], stack: Stack) -> Any:
    """One logged-in page, shared by the tests in order (it keeps its session cookie)."""
    tab = new_context().new_page()
    log_in(tab, stack, stack.token)
    assert tab.url == f"{stack.console_url}/", f"the login did not land on the overview: {tab.url}"
    return tab


class Shots:
    """Full-page screenshots in test-artifacts/browser/<test name>.png."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.page: Any = None
        self.saved = False

    def save(self, page: Any = None, suffix: str = "") -> Path:
        target = page or self.page
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}{suffix}.png"
        target.screenshot(path=str(path), full_page=True)
        self.saved = True
        return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Iterator[Shots]:
    """Each test saves its screenshot; a failing one gets the page as it was when it failed."""
    taken = Shots(request.node.name)
    yield taken
    if taken.page is not None and (request.node.stash.get(FAILED, False) or not taken.saved):
        with contextlib.suppress(Exception):  # the page may be gone: the failure itself is what matters
            taken.save()
