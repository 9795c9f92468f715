"""Every page renders for a logged-in user with its key content; a missing stack is a call to deploy."""

import pytest

from tests.console.conftest import FUNCTION, REQUEST_ID, Browser

PAGES = {
    "/": [
        "CREATE_COMPLETE",
        "Delivery",
        "Images at",
        "ApiUrl",
        "python3.12",
        "arm64",
        "Memory",
        "Timeout",
        "Last hour",
        "Invocations",
        "p99 duration",
        "Recent errors",
        "/300x200/missing.jpg",
    ],
    "/deploy": [
        "Plan a deploy",
        "Parameter overrides",
        "Build / publish the package",
        'action="/deploy/plan"',
    ],
    "/images": ["Upload an original", "photos/cat.png", "300x200", "Try a size", "Derived sizes", "Purge"],
    "/invoke": ["Saved events", "resize", "300x200/sample.jpg", "Run", "Save"],
    "/logs": ["Log group", f"/aws/lambda/{FUNCTION}", "Pause", "Resume", "data-log-stream"],
    "/metrics": ["<svg", "Invocations", "Duration p99", "Resize p99", "Output bytes", "error rate"],
    "/destroy": ["Will be deleted", "Will be kept", "Type the stack", "Also delete the images bucket"],
    "/login": [],  # a logged-in user is sent on
}


@pytest.mark.parametrize("path", [p for p in PAGES if p != "/login"])
def test_every_page_renders_with_its_content(browser: Browser, path: str) -> None:
    reply = browser.page(path)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"].startswith("text/html")
    for expected in PAGES[path]:
        assert expected in reply.text, f"{expected!r} missing from {path}"
    assert 'aria-current="page">' in reply.text  # the nav marks where we are


def test_login_page_sends_a_logged_in_user_on(browser: Browser) -> None:
    reply = browser.client.get("/login?next=/images", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/images"


def test_the_overview_links_the_outputs_and_groups_nothing_secret(browser: Browser, cloud) -> None:
    html = browser.page("/").text
    assert f'<a href="{cloud.images_url}"' in html  # CdnUrl or WebsiteUrl as a link
    assert "execute-api" in html


def test_metrics_windows_and_svg(browser: Browser) -> None:
    for window in ("1h", "3h", "1d", "1w"):
        reply = browser.page(f"/metrics?window={window}")
        assert reply.status_code == 200
        assert reply.text.count("<svg") >= 5 and 'role="img"' in reply.text
    assert browser.page("/metrics?window=2y").status_code == 400


def test_images_try_a_size_shows_the_image_and_its_url(browser: Browser, cloud) -> None:
    reply = browser.page("/images?try_spec=300x200,webp&try_key=photos/cat.png")
    assert f'<img src="{cloud.images_url}/300x200,webp/photos/cat.png"' in reply.text
    bad = browser.page("/images?try_spec=300x200,webp,inside&try_key=photos/cat.png")
    assert "canonical" in bad.text  # non-canonical spelling: the page names the right one


def test_invoke_page_has_the_log_of_a_request_id_nowhere_yet(browser: Browser) -> None:
    assert REQUEST_ID not in browser.page("/invoke").text


@pytest.mark.parametrize("path", ["/", "/images", "/metrics", "/destroy"])
def test_a_missing_stack_is_a_call_to_deploy(cloud, tmp_path, path: str) -> None:
    from fastapi.testclient import TestClient

    from console.app import create_app
    from tests.console.conftest import settings_for

    with TestClient(create_app(settings_for(cloud, stack="nothing-here"))) as client:
        browser = Browser(client).login()
        reply = browser.page(path)
    assert reply.status_code == 200
    assert "nothing-here" in reply.text
    assert 'href="/deploy"' in reply.text
