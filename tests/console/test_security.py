"""Authentication, CSRF, cookies, headers, and that no secret ever reaches a page."""

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from console import security
from console.app import create_app
from tests.console.conftest import SECRETS, TOKEN, Browser, png, settings_for

PUBLIC = {"login_page", "login"}


def routes(app: Any) -> list[tuple[str, str, str, bool]]:
    """(method, concrete path, route name, is an HTML page) for every route of the app."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        path = re.sub(r"\{[^}]+\}", "some-id", context.path)
        page = route.response_class is security.HTMLResponse
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path, route.name, page and method == "GET"))
    return found


def test_there_are_routes_to_check(app) -> None:
    names = {name for _, _, name, _ in routes(app)}
    assert {"overview", "deploy_plan", "images_upload", "logs_stream", "destroy", "api_features"} <= names


def test_unauthenticated_pages_redirect_and_everything_else_is_401(app, anonymous: TestClient) -> None:
    for method, path, name, page in routes(app):
        if name in PUBLIC:
            continue
        reply = anonymous.request(method, path, follow_redirects=False)
        if page:
            assert reply.status_code == 303, (method, path)
            assert reply.headers["location"].startswith("/login?next="), path
        else:
            assert reply.status_code == 401, (method, path, reply.status_code)


def test_every_post_needs_the_csrf_token(app, browser: Browser) -> None:
    posts = [(path, name) for method, path, name, _ in routes(app) if method in ("POST", "PUT", "DELETE")]
    assert len(posts) >= 10
    for path, name in posts:
        if name == "login":
            continue  # checked below, without a session
        missing = browser.client.post(path, data={"key": "x"}, follow_redirects=False)
        assert missing.status_code == 403, (path, missing.status_code)
        wrong = browser.client.post(
            path, data={"key": "x", "csrf_token": "forged"}, headers={"X-CSRF-Token": "forged"}
        )
        assert wrong.status_code == 403, (path, wrong.status_code)
        assert "CSRF" in wrong.json()["message"]


def test_the_csrf_token_works_as_a_form_field_too(browser: Browser) -> None:
    reply = browser.client.post(
        "/invoke/events",
        data={"name": "via-form", "body": "{}", "csrf_token": browser.csrf},
        headers={"accept": "text/html"},
        follow_redirects=False,
    )
    assert reply.status_code == 303 and reply.headers["location"] == "/invoke?event=via-form&saved=1"


def test_login_itself_needs_its_csrf_token(anonymous: TestClient) -> None:
    anonymous.get("/login")
    assert anonymous.post("/login", data={"token": TOKEN}).status_code == 403
    assert anonymous.post("/login", data={"token": TOKEN, "csrf_token": "forged"}).status_code == 403


def test_a_wrong_token_fails_and_the_right_one_sets_a_strict_httponly_cookie(anonymous: TestClient) -> None:
    form = anonymous.get("/login")
    login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    wrong = anonymous.post("/login", data={"token": "nope", "csrf_token": login_csrf}, follow_redirects=False)
    assert wrong.status_code == 401 and "not the console" in wrong.text
    assert security.SESSION_COOKIE + "=" not in wrong.headers.get("set-cookie", "")
    assert anonymous.get("/", follow_redirects=False).status_code == 303
    right = anonymous.post(
        "/login", data={"token": TOKEN, "csrf_token": login_csrf, "next": "/images"}, follow_redirects=False
    )
    assert right.status_code == 303 and right.headers["location"] == "/images"
    cookie = next(
        c for c in right.headers.get_list("set-cookie") if c.startswith(security.SESSION_COOKIE + "=")
    )
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert "secure" not in attributes  # plain http here; Secure only over https
    assert TOKEN not in cookie
    assert anonymous.get("/").status_code == 200


def test_the_cookie_is_secure_over_https(app) -> None:
    with TestClient(app, base_url="https://console.test") as client:
        form = client.get("/login")
        login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        reply = client.post("/login", data={"token": TOKEN, "csrf_token": login_csrf}, follow_redirects=False)
    cookie = next(
        c for c in reply.headers.get_list("set-cookie") if c.startswith(security.SESSION_COOKIE + "=")
    )
    assert "secure" in cookie.lower()


def test_login_goes_back_only_to_a_local_path(anonymous: TestClient) -> None:
    for target, expected in [("https://evil.test/", "/"), ("//evil.test", "/"), ("/metrics", "/metrics")]:
        anonymous.cookies.clear()
        form = anonymous.get("/login")
        login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
        reply = anonymous.post(
            "/login", data={"token": TOKEN, "csrf_token": login_csrf, "next": target}, follow_redirects=False
        )
        assert reply.headers["location"] == expected


def test_logout_revokes_the_session(browser: Browser) -> None:
    cookie = browser.client.cookies.get(security.SESSION_COOKIE)
    reply = browser.client.post("/logout", data={"csrf_token": browser.csrf}, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/login"
    browser.client.cookies.set(security.SESSION_COOKIE, cookie)  # a stolen copy is no good either
    assert browser.client.get("/api/features").status_code == 401


def test_a_forged_or_expired_cookie_is_no_session(app, anonymous: TestClient) -> None:
    sessions = app.state.console.sessions
    _, cookie = sessions.new()
    sid, expires, signature = cookie.split(".")
    for forged in (f"{sid}.{int(expires) + 999}.{signature}", f"other.{expires}.{signature}", "junk"):
        anonymous.cookies.set(security.SESSION_COOKIE, forged)
        assert anonymous.get("/api/features").status_code == 401
    expired = security.Sessions(TOKEN, b"console-tests-secret-0123456789ab", hours=-1)
    anonymous.cookies.set(security.SESSION_COOKIE, expired.new()[1])
    assert anonymous.get("/api/features").status_code == 401


def test_another_token_or_secret_invalidates_sessions(cloud) -> None:
    one = security.Sessions("a", b"s")
    _, cookie = one.new()
    assert one.read(cookie) is not None
    assert security.Sessions("b", b"s").read(cookie) is None
    assert security.Sessions("a", b"t").read(cookie) is None


def test_failed_logins_are_throttled_but_the_right_token_still_gets_in(
    anonymous: TestClient, monkeypatch
) -> None:
    from console.routes import auth

    delays = []
    monkeypatch.setattr(auth.time, "sleep", delays.append)
    form = anonymous.get("/login")
    login_csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    codes = [
        anonymous.post("/login", data={"token": "x", "csrf_token": login_csrf}).status_code
        for _ in range(security.MAX_FAILURES + 1)
    ]
    assert codes[-1] == 429 and codes[0] == 401
    assert delays == [auth.THROTTLE_DELAY_S], "only the attempt after too many failures waits"
    right = anonymous.post("/login", data={"token": TOKEN, "csrf_token": login_csrf}, follow_redirects=False)
    assert right.status_code == 303, "a flood of wrong tokens must not lock the owner out"


@pytest.mark.parametrize("path", ["/", "/login", "/api/features", "/static/console.css", "/nowhere"])
def test_security_headers_on_every_response(browser: Browser, path: str) -> None:
    reply = browser.client.get(path)
    csp = reply.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
    assert "form-action 'self'" in csp and "img-src 'self' data: blob: http://127.0.0.1:*" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert reply.headers["x-frame-options"] == "DENY"
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["referrer-policy"] == "no-referrer"


def test_the_csp_allows_the_stacks_website_for_images(browser: Browser, cloud) -> None:
    browser.page("/images")
    origin = "/".join(cloud.images_url.split("/")[:3])  # the CDN in cdn delivery
    assert origin in browser.client.get("/").headers["content-security-policy"]


PAGES = ["/", "/deploy", "/images", "/invoke", "/logs", "/metrics", "/destroy", "/login", "/nowhere"]


def _inline_code(html: str) -> list[str]:
    found = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    found += re.findall(r"<style\b", html)
    found += re.findall(r"\sstyle\s*=", html)
    found += re.findall(r"\son[a-z]+\s*=", html)
    found += re.findall(r"javascript:", html)
    return found


def test_no_inline_script_or_style_in_any_page(browser: Browser) -> None:
    for path in [*PAGES, "/images?try_spec=300x200&try_key=photos/cat.png", "/metrics?window=1w"]:
        html = browser.page(path).text
        assert not _inline_code(html), (path, _inline_code(html))


def test_no_secret_in_any_page_or_header(browser: Browser, cloud, monkeypatch) -> None:
    (cloud.folder / "resizer.toml").write_text(f'[parameters]\nSigningKey = "{TOKEN[:0]}{SECRETS[3]}"\n')
    try:
        seen = []
        for path in [*PAGES, "/api/status", "/api/features", "/api/images", "/api/metrics", "/invoke?new=1"]:
            seen.append(browser.page(path))
        planned = browser.post(
            "/deploy/plan", {"parameters": f"SigningKey={SECRETS[3]}\nMemorySize=1536"}, html=True
        )
        assert planned.status_code == 303, planned.text
        seen.append(browser.page(planned.headers["location"]))
        seen.append(browser.post("/deploy/plan", {"parameters": f"SigningKey {SECRETS[3]}"}, html=True))
        seen.append(browser.post("/deploy/package", {"platform": "local"}, html=True))
        seen.append(
            browser.post("/images/upload", files={"file": ("x.png", png())}, data={"key": "200x200/x"})
        )
        for reply in seen:
            text = reply.text + str(reply.headers)
            for secret in SECRETS:
                assert secret not in text, (reply.request.url, secret)
        assert "(hidden)" in browser.page("/deploy").text  # the configured SigningKey is named, not shown
    finally:
        (cloud.folder / "resizer.toml").unlink()


def test_oversized_bodies_are_refused_before_parsing(cloud, tmp_path) -> None:
    app = create_app(settings_for(cloud, max_upload_bytes=1000))
    with TestClient(app) as client:
        browser = Browser(client).login()
        reply = browser.post("/images/upload", files={"file": ("big.png", b"x" * 3_000_000)})
    assert reply.status_code == 413
    assert "limit" in reply.json()["message"]
