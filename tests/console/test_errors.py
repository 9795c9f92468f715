"""The one error table: every operations error type has its HTTP status, as JSON and as a page."""

import inspect

import pytest

from console import errors as console_errors
from operations import errors
from operations import status as status_op
from tests.console.conftest import Browser


def test_the_table_covers_every_operations_error_type() -> None:
    kinds = {
        k for _, k in inspect.getmembers(errors, inspect.isclass) if issubclass(k, errors.OperationError)
    }
    assert kinds == {kind for kind, _ in console_errors.STATUSES}


def make(kind: type[errors.OperationError]) -> errors.OperationError:
    if kind is errors.DeployFailed:
        return kind("it failed", resource="Function", reason="S3 key does not exist", hint="look")
    if kind is errors.TemplateInvalid:
        return kind("bad template", ["E3012 line 4: wrong type"], hint="lint it")
    return kind(f"{kind.__name__} happened", hint="a hint")


@pytest.mark.parametrize(
    "kind, code", console_errors.STATUSES, ids=[k.__name__ for k, _ in console_errors.STATUSES]
)
def test_each_error_type_answers_its_status(browser: Browser, monkeypatch, kind, code) -> None:
    def failing(*args, **kwargs):
        raise make(kind)

    monkeypatch.setattr(status_op, "status", failing)
    assert console_errors.status_of(make(kind)) == code
    reply = browser.client.get("/api/status")
    assert reply.status_code == code
    body = reply.json()
    assert body["error"] == kind.__name__ and body["message"] and body["hint"]
    if kind is errors.DeployFailed:
        assert (body["resource"], body["reason"]) == ("Function", "S3 key does not exist")
    if kind is errors.TemplateInvalid:
        assert body["problems"] == ["E3012 line 4: wrong type"]
    if kind is not errors.StackNotFound:  # the overview shows a missing stack as a call to deploy
        page = browser.page("/")
        assert page.status_code == code and page.headers["content-type"].startswith("text/html")
        assert "a hint" in page.text or "look" in page.text or "lint it" in page.text


def test_an_unexpected_error_is_a_500_without_its_details(browser: Browser, monkeypatch, caplog) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals at 0xdeadbeef")

    monkeypatch.setattr(status_op, "status", broken)
    page = browser.page("/")
    assert page.status_code == 500 and "Something went wrong" in page.text
    assert "deadbeef" not in page.text and "Traceback" not in page.text
    api = browser.client.get("/api/status")
    assert api.status_code == 500 and api.json()["error"] == "InternalError" and "deadbeef" not in api.text
    assert "deadbeef" in caplog.text  # logged server-side, with the traceback


def test_unknown_pages_and_methods(browser: Browser) -> None:
    assert browser.page("/nowhere").status_code == 404
    assert browser.client.get("/api/nowhere").json()["error"] == "RequestRefused"
    assert browser.client.put("/images/delete", headers={"X-CSRF-Token": browser.csrf}).status_code == 405
    missing = browser.client.post("/images/delete", headers={"X-CSRF-Token": browser.csrf})
    assert missing.status_code == 400 and "key" in missing.json()["message"]
