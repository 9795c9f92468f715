"""The console in a real browser: headless chromium against a console process and a local cloud.

The tests share one provisioned stack and one logged-in page and run in file order: the deploy
changes MemorySize, later tests invoke the function (so the metrics have data), and the
security test comes last to judge everything the browser reported during the run. Nothing is
ever destroyed. Each test leaves a full-page screenshot in test-artifacts/browser/.
"""

import io
import re
import time
import urllib.request
from pathlib import Path
from typing import Any

from PIL import Image

from tests.browser.conftest import Shots, Stack, Watcher, log_in

UPLOAD_KEY = "browser-upload.png"


def goto(page: Any, stack: Stack, path: str) -> Any:
    response = page.goto(f"{stack.console_url}{path}")
    assert response is not None and response.status == 200, f"GET {path}: {response and response.status}"
    return response


def no_horizontal_scroll(page: Any) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


# 1 -------------------------------------------------------------------------------------------------


def test_login_refuses_a_wrong_token_then_lands_on_the_overview(
    new_context, stack: Stack, watcher: Watcher, shots: Shots
):
    page = new_context().new_page()
    shots.page = page
    page.goto(f"{stack.console_url}/")
    assert page.url.startswith(f"{stack.console_url}/login"), "an anonymous visit goes to the login page"

    errors = len(watcher.console_errors)
    log_in(page, stack, "not-the-token")
    assert re.search(r"/login(\?|$)", page.url), page.url
    # The refusal is a 401 page, which chromium reports as a failed load: expected, set aside.
    deadline = time.monotonic() + 3
    while len(watcher.console_errors) == errors and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    refused = watcher.console_errors[errors:]
    assert len(refused) == 1 and "status of 401" in refused[0] and "/login" in refused[0], refused
    watcher.expected_errors.append(watcher.console_errors.pop())
    assert "not the console's token" in page.locator("[role=alert]").inner_text()
    assert page.locator("nav[aria-label=Main]").count() == 0, "no navigation before logging in"
    shots.save(page, "-refused")

    log_in(page, stack, stack.token)
    assert page.url == f"{stack.console_url}/"
    assert page.locator("h1").inner_text() == "Overview"
    status = page.locator("p.big .status")
    assert re.fullmatch(r"(CREATE|UPDATE)_COMPLETE", status.inner_text().strip()), status.inner_text()
    website = page.locator("dl.kv dt", has_text="WebsiteUrl").locator("xpath=following-sibling::dd[1]")
    assert website.inner_text().strip() == stack.website
    assert website.locator("a").get_attribute("href") == stack.website
    shots.save(page)


# 2 -------------------------------------------------------------------------------------------------


def test_deploy_plans_a_change_executes_it_and_follows_the_events(page, stack: Stack, shots: Shots):
    shots.page = page
    goto(page, stack, "/deploy")
    # Delivery=website kept: a deploy takes the template's defaults for the parameters not given.
    page.fill("#parameters", "MemorySize=1536\nDelivery=website")
    with page.expect_navigation(timeout=60_000):
        page.click("form[action='/deploy/plan'] button[type=submit]", timeout=60_000)  # plans package
    assert re.search(r"/deploy/[A-Za-z0-9_-]+$", page.url), page.url
    assert page.locator(".alert", has_text="No changes").count() == 0, "MemorySize=1536 is a change"
    rows = page.locator("section.card table tbody tr")
    changes = {(r.locator("td").nth(0).inner_text(), r.locator("td").nth(1).inner_text()) for r in rows.all()}
    assert ("Modify", "Function") in changes, changes

    with page.expect_navigation():
        page.click("form[action$='/execute'] button[type=submit]")
    run = page.locator("section.run")
    events = run.locator("tbody.run-events tr")
    started_live = run.get_attribute("data-run-done") == "false"
    counts = []
    deadline = time.monotonic() + 60
    while run.get_attribute("data-run-done") != "true":
        counts.append(events.count())
        assert time.monotonic() < deadline, f"the deploy did not settle in 60 s (events: {counts[-1:]})"
        page.wait_for_timeout(100)
    counts.append(events.count())

    assert started_live, "the run was still going when the page opened: its events came over SSE"
    assert counts == sorted(counts), f"the events list only grows: {counts}"
    assert counts[-1] >= 2 and counts[-1] > counts[0], counts
    banner = run.locator(".run-state .alert")
    assert "good" in (banner.get_attribute("class") or ""), banner.inner_text()
    assert "Deployed" in banner.inner_text() and "UPDATE_COMPLETE" in banner.inner_text()
    stack_rows = events.filter(has=page.locator("td:nth-child(2)", has_text=re.compile(r"^resizer$")))
    assert "UPDATE_COMPLETE" in stack_rows.all_inner_texts()[-1]
    function_rows = events.filter(has=page.locator("td:nth-child(2)", has_text=re.compile(r"^Function$")))
    assert any("UPDATE_COMPLETE" in text for text in function_rows.all_inner_texts())
    shots.save(page)

    goto(page, stack, "/")
    memory = page.locator("dl.kv dt", has_text="Memory").locator("xpath=following-sibling::dd[1]")
    assert memory.inner_text().strip() == "1536 MB", "the overview shows the deployed MemorySize"


# 3 -------------------------------------------------------------------------------------------------


def test_images_upload_then_try_a_size(page, stack: Stack, shots: Shots, tmp_path: Path):
    shots.page = page
    original = tmp_path / UPLOAD_KEY
    Image.new("RGB", (640, 480), (30, 120, 200)).save(original, "PNG")
    goto(page, stack, "/images")
    assert page.locator(".tile .key", has_text=UPLOAD_KEY).count() == 0

    page.set_input_files("#file", str(original))
    assert UPLOAD_KEY in page.locator(".drop-text").inner_text(), "the chosen file is named"
    with page.expect_navigation(url=re.compile(r"/images\?uploaded=")):
        page.click("form.upload button[type=submit]")
    assert f"Uploaded {UPLOAD_KEY}." in page.locator(".alert.good").inner_text()
    assert page.locator(".tile .key", has_text=UPLOAD_KEY).count() == 1
    assert UPLOAD_KEY in page.locator("#try_key option").all_inner_texts()

    page.fill("#try_spec", "200x150")
    page.select_option("#try_key", UPLOAD_KEY)
    with page.expect_navigation():
        page.click("button:has-text('Show it')")
    image = page.locator("figure.tried img")
    image.wait_for()
    handle = image.element_handle()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=handle, timeout=30_000)
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [200, 150]
    shown = page.locator("figure.tried figcaption").inner_text()
    assert "/200x150/" in shown and shown.endswith(f"/200x150/{UPLOAD_KEY}"), shown
    assert image.get_attribute("src") == f"{stack.website}/200x150/{UPLOAD_KEY}"

    # The originals' thumbnails are made by the console: no derived object, no function run.
    thumb = page.locator(".tile", has=page.locator(".key", has_text=re.compile(f"^{re.escape(UPLOAD_KEY)}$")))
    thumb = thumb.locator(".thumb img")
    assert thumb.get_attribute("src").startswith(f"/images/thumb?key={UPLOAD_KEY}&etag=")
    thumb.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle(), timeout=30_000
    )
    assert thumb.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [160, 120]
    assert page.locator(".derived-item .badge", has_text="160x160").count() == 0
    shots.save(page)


# 4 -------------------------------------------------------------------------------------------------


def test_invoke_runs_the_prefilled_resize_event(page, stack: Stack, shots: Shots):
    shots.page = page
    goto(page, stack, "/invoke")
    assert page.locator("#name").input_value() == "resize"
    assert "/300x200/sample.jpg" in page.locator("#body").input_value()
    with page.expect_navigation(timeout=60_000):
        page.click("button[formaction='/invoke/run']")
    result = page.locator("section.result")
    assert "event resize" in result.locator("h2").inner_text()
    assert result.locator(".status").inner_text() == "OK"
    duration = result.locator(".figure", has=page.locator(".label", has_text="Duration")).locator(".value")
    assert re.fullmatch(r"\d+\.\d\d ms", duration.inner_text()), duration.inner_text()
    memory = result.locator(".figure", has=page.locator(".label", has_text="Memory")).locator(".value")
    assert memory.inner_text().endswith("/ 1536 MB"), memory.inner_text()
    lines = result.locator("ol.loglines li code").all_inner_texts()
    request_id = result.locator("p.big code").inner_text()
    assert f"START RequestId: {request_id}" in "\n".join(lines), lines
    assert any(line.startswith("REPORT RequestId:") for line in lines), lines
    assert any('"/300x200/sample.jpg"' in line for line in lines), "the function's own JSON line"
    assert result.locator("h3", has_text=re.compile(r"^HTTP 30[1278]$")).count() == 1
    shots.save(page)


# 5 -------------------------------------------------------------------------------------------------


def test_logs_live_tail_shows_a_new_request(page, stack: Stack, shots: Shots):
    shots.page = page
    goto(page, stack, "/logs")
    state = page.locator(".log-state")
    page.wait_for_function(
        "() => document.querySelector('.log-state').textContent.startsWith('live')", timeout=10_000
    )
    view = page.locator(".log-view")
    assert "/123x/sample.jpg" not in view.inner_text()

    with urllib.request.urlopen(f"{stack.website}/123x/sample.jpg", timeout=30) as reply:
        assert reply.status == 200 and Image.open(reply).size[0] == 123
    page.wait_for_function(
        "() => document.querySelector('.log-view').textContent.includes('/123x/sample.jpg')",
        timeout=10_000,
    )
    group = page.locator("details.request", has_text="/123x/sample.jpg")
    assert group.count() == 1, "the request's lines are grouped together"
    group_lines = group.locator(".line .msg").all_inner_texts()
    assert group_lines and group_lines[0].startswith("START RequestId:"), group_lines
    assert re.match(r"live · \d+ line\(s\)", state.inner_text()), state.inner_text()
    shots.save(page)


def test_logs_follow_the_cleanup_when_an_original_is_uploaded(page, stack: Stack, shots: Shots):
    """S3 -> EventBridge -> the cleanup function in the local cloud; its lines join the tail, named."""
    import boto3

    shots.page = page
    goto(page, stack, "/logs?function=all&since=1m")
    page.wait_for_function(
        "() => document.querySelector('.log-state').textContent.startsWith('live')", timeout=10_000
    )
    assert page.locator("#function").input_value() == "all"
    s3 = boto3.client(
        "s3",
        endpoint_url=stack.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buffer, "JPEG")  # a real image: the Images page shows it
    jpeg = buffer.getvalue()
    s3.put_object(Bucket=stack.outputs["BucketName"], Key="browser-cleanup.jpg", Body=jpeg)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.log-view .line')].some(l =>"
        " l.querySelector('.fn-cleanup') && l.textContent.includes('browser-cleanup.jpg'))",
        timeout=20_000,
    )
    shots.save(page)

    page.select_option("#function", "cleanup")
    page.click("form.row button[type=submit]")
    page.wait_for_function(
        "() => document.querySelector('.log-view').textContent.includes('browser-cleanup.jpg')",
        timeout=15_000,
    )
    assert page.locator("#function").input_value() == "cleanup"
    assert page.locator(".log-view .fn-resize").count() == 0, "only the cleanup's lines"


# 6 -------------------------------------------------------------------------------------------------


def test_metrics_draws_charts_with_invocations(page, stack: Stack, shots: Shots):
    shots.page = page
    deadline = time.monotonic() + 20
    while True:  # the datapoints of the requests just made may take a poll to land
        goto(page, stack, "/metrics")
        assert page.locator("svg.chart").count() >= 1
        card = page.locator(
            "figure.chart-card", has=page.locator("figcaption strong", has_text="Invocations")
        )
        assert card.count() == 1
        heights = card.locator("svg.chart rect").evaluate_all(
            "rects => rects.map(r => parseFloat(r.getAttribute('height')))"
        )
        if any(h > 0 for h in heights) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(1000)
    assert any(h > 0 for h in heights), f"no invocation bar with a height: {heights}"
    box = card.locator("svg.chart").bounding_box()
    assert box and box["width"] > 100 and box["height"] > 50, f"the chart is drawn at a visible size: {box}"
    assert "no data in this window" not in card.inner_text()
    total = page.locator(
        "table tbody tr", has=page.locator("td:first-child", has_text=re.compile("^Invocations$"))
    )
    assert int(total.locator("td.num").inner_text().replace(",", "")) >= 1, "the window's sum agrees"
    shots.save(page)


# 7 -------------------------------------------------------------------------------------------------


def test_narrow_window_keyboard_navigation_and_no_horizontal_scroll(page, stack: Stack, shots: Shots):
    shots.page = page
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        goto(page, stack, "/")
        nav = page.locator("nav[aria-label=Main]")
        assert nav.is_visible()
        focused = ""
        for _ in range(20):
            page.keyboard.press("Tab")
            focused = page.evaluate(
                "() => document.activeElement.closest('nav[aria-label=Main]') ? "
                "document.activeElement.textContent.trim() : ''"
            )
            if focused == "Images":
                break
        assert focused == "Images", "Tab reaches the Images link of the navigation"
        box = page.evaluate("() => document.activeElement.getBoundingClientRect().toJSON()")
        assert box["left"] >= 0 and box["right"] <= 390, f"the focused nav link is on screen: {box}"
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert page.url == f"{stack.console_url}/images"
        assert page.locator("nav a[aria-current=page]").inner_text() == "Images"

        wide = {}
        for path in ("/", "/deploy", "/images", "/invoke", "/logs", "/metrics", "/destroy"):
            goto(page, stack, path)
            scroll, inner = no_horizontal_scroll(page)
            if scroll > inner + 1:
                wide[path] = (scroll, inner)
        goto(page, stack, "/")
        shots.save(page)
        assert not wide, f"pages wider than a 390 px window (scrollWidth, innerWidth): {wide}"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


# 9 -------------------------------------------------------------------------------------------------


def test_destroy_page_shows_what_is_kept_without_destroying(page, stack: Stack, shots: Shots):
    shots.page = page
    goto(page, stack, "/destroy")
    bucket = stack.outputs["BucketName"]
    kept = page.locator("ul.kept li").all_inner_texts()
    assert any(bucket in item for item in kept), kept
    deleted = page.locator("ul.deleted li").all_inner_texts()
    assert deleted and not any(bucket in item for item in deleted), deleted
    assert page.locator("#confirm_stack").get_attribute("required") is not None
    confirm = page.locator("#bucket-confirm")
    assert "hidden" in (confirm.get_attribute("class") or ""), "the bucket confirmation starts hidden"
    page.check("#delete_images")
    assert "hidden" not in (confirm.get_attribute("class") or "")
    assert page.locator("#confirm_bucket").evaluate("input => input.required")
    page.uncheck("#delete_images")
    assert "hidden" in (confirm.get_attribute("class") or "")
    shots.save(page)
    # Nothing was submitted: the stack is still there.
    goto(page, stack, "/")
    assert re.fullmatch(r"(CREATE|UPDATE)_COMPLETE", page.locator("p.big .status").inner_text().strip())


# 8 (last: it judges the whole run) ----------------------------------------------------------------


def test_no_console_errors_no_csp_violations_and_the_token_never_in_a_page(
    page, new_context, stack: Stack, watcher: Watcher, shots: Shots
):
    shots.page = page
    goto(page, stack, "/")
    shots.save(page)
    visited = [url for url, _ in watcher.documents]
    assert len(visited) >= 10, f"the run visited the console's pages: {visited}"
    assert not watcher.console_errors, watcher.console_errors
    assert not watcher.page_errors, watcher.page_errors
    assert not watcher.csp_violations, watcher.csp_violations
    leaking = [url for url, html in watcher.documents if stack.token in html]
    assert not leaking, f"the login token appears in {leaking}"
    assert all(stack.token not in c["value"] for c in page.context.cookies()), "no cookie holds the token"
    assert page.evaluate("document.cookie") == "", "the session cookie is HttpOnly"

    # The watcher itself works: an inline script on a console page is a reported CSP violation.
    probe = new_context().new_page()
    before = len(watcher.csp_violations), len(watcher.console_errors)
    probe.goto(f"{stack.console_url}/login")
    probe.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
        " document.body.appendChild(s); }"
    )
    probe.wait_for_timeout(300)
    assert len(watcher.csp_violations) > before[0], "the CSP reporter catches an inline script"
    assert probe.evaluate("window.x") is None, "the CSP blocked it"
    del watcher.csp_violations[before[0] :], watcher.console_errors[before[1] :]
