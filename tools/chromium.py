"""Find, or obtain, the Chromium that the browser tests drive; print its path.

    python tools/chromium.py            # find one, else obtain one, else one line saying what to run
    python tools/chromium.py --find     # only look (exit 1 when there is none)

Looked for, in order: ``$CHROMIUM``, then ``chromium``, ``chromium-browser``, ``google-chrome``,
``google-chrome-stable`` on PATH, then a Chromium that Playwright already downloaded. Obtained,
when none is found, with Playwright's own ``playwright install chromium`` (when its download host
answers), then with ``apt-get install chromium`` (Debian/Ubuntu) when this user may install
packages (root, or sudo without a password). Standard library only: `make test` runs it first.
"""

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENV = "CHROMIUM"


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def playwright_browsers(environ: dict[str, str]) -> list[str]:
    """Chromium executables that `playwright install chromium` left in its cache."""
    root = environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(
        Path(environ.get("HOME") or "~").expanduser() / ".cache/ms-playwright"
    )
    patterns = (
        "chromium-*/chrome-linux*/chrome",
        "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
    )
    found = [path for pattern in patterns for path in glob.glob(os.path.join(root, pattern))]
    return sorted(found, reverse=True)


def find(environ: dict[str, str] | None = None) -> str | None:
    """The first usable Chromium, or None."""
    env = os.environ if environ is None else environ
    if env.get(ENV):
        return env[ENV] if _executable(env[ENV]) else None
    for name in NAMES:
        if path := shutil.which(name, path=env.get("PATH", "")):
            return path
    return next(iter(playwright_browsers(dict(env))), None)


def _run(command: list[str], timeout: float) -> bool:
    try:
        return subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr, timeout=timeout).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def _may_install_packages() -> list[str] | None:
    """The prefix that runs apt-get as root here (``[]`` or ``["sudo", "-n"]``), None if not allowed."""
    if not shutil.which("apt-get"):
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and _run(["sudo", "-n", "true"], 10):
        return ["sudo", "-n"]
    return None


def obtain() -> str | None:
    """Try Playwright's download, then the system's packages; the Chromium found afterwards."""
    print("no Chromium found: trying `playwright install chromium`", file=sys.stderr)
    if _run([sys.executable, "-m", "playwright", "install", "chromium"], 600) and (found := find()):
        return found
    prefix = _may_install_packages()
    if prefix is not None:
        print("trying `apt-get install chromium`", file=sys.stderr)
        env = ["env", "DEBIAN_FRONTEND=noninteractive"]
        _run([*prefix, *env, "apt-get", "update", "-qq"], 600)
        _run([*prefix, *env, "apt-get", "install", "-y", "-qq", "chromium"], 900)
    return find()


def advice() -> str:
    """The one line printed when there is no Chromium: exactly what to run."""
    return (
        "error: the browser tests need Chromium and none could be found or installed: run "
        "`sudo apt-get install chromium` (Debian/Ubuntu), or `.venv/bin/playwright install chromium`, "
        f"or set {ENV}=/path/to/chromium-or-chrome, then `make test` again"
    )


def main(argv: list[str]) -> int:
    found = find() if "--find" in argv else find() or obtain()
    if found is None:
        print(advice(), file=sys.stderr)
        return 1
    print(found)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
