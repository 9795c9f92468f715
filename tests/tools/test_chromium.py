"""tools/chromium.py: the browser tests' Chromium is found, or the run stops once saying what to run."""

import os
import subprocess
import sys
from pathlib import Path

from tools import chromium

REPO = Path(__file__).resolve().parents[2]


def fake_browser(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_the_first_browser_on_path_is_found(tmp_path: Path) -> None:
    fake = fake_browser(tmp_path, "google-chrome")
    assert chromium.find({"PATH": str(tmp_path), "HOME": str(tmp_path)}) == str(fake)


def test_chromium_env_wins_and_must_be_executable(tmp_path: Path) -> None:
    fake = fake_browser(tmp_path, "my-chrome")
    fake_browser(tmp_path, "chromium")
    assert chromium.find({"CHROMIUM": str(fake), "PATH": str(tmp_path)}) == str(fake)
    assert chromium.find({"CHROMIUM": str(tmp_path / "missing"), "PATH": str(tmp_path)}) is None


def test_a_browser_playwright_downloaded_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "ms-playwright" / "chromium-1200" / "chrome-linux"
    folder.mkdir(parents=True)
    fake = fake_browser(folder, "chrome")
    found = chromium.find(
        {"PATH": str(tmp_path / "empty"), "PLAYWRIGHT_BROWSERS_PATH": str(tmp_path / "ms-playwright")}
    )
    assert found == str(fake)


def test_an_empty_path_finds_nothing() -> None:
    assert chromium.find({"PATH": "", "HOME": "/nonexistent"}) is None


def test_none_found_is_one_line_that_says_what_to_run(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "chromium.py"), "--find"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "apt-get install chromium" in lines[0] and "CHROMIUM=" in lines[0] and "Traceback" not in lines[0]


def test_pytest_stops_once_when_the_browser_tests_have_no_chromium(tmp_path: Path) -> None:
    """Nine browser tests, no Chromium: one line and a non-zero status, no test errors."""
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": venv_bin, "HOME": str(tmp_path)}
    env.pop("CHROMIUM", None)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/browser", "--co"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    said = done.stdout + done.stderr
    assert done.returncode == 1, said
    assert said.count("none could be found") == 1 and "Traceback" not in said, said
