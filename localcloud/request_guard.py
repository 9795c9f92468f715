"""Checks a request must pass before moto sees it, answered as AWS answers them (4xx, never 5xx).

- ``loopback_host``: the Host header parsed as RFC 7230 says (``host[:port]``), so
  ``127.0.0.1:4633@evil.com`` is not a loopback name.
- ``s3_xml_problem``: an S3 configuration body (``?tagging``, ``?website``, ``?delete``, ...) must be
  well-formed XML without a DTD (no entity is ever expanded: a billion-laughs body is a plain
  ``MalformedXML``), and a website configuration must follow S3's schema and rules, so a stored
  configuration can never break the website endpoint.
- ``read_body``: a request body is read with the socket's read timeout and a size bound; a client
  that declares more than it sends gets ``RequestTimeout`` instead of holding a thread forever.
"""

import io
import re
import xml.etree.ElementTree as ET
from xml.parsers import expat

API_PAYLOAD_LIMIT = 10 * 1024 * 1024  # API Gateway REST APIs refuse larger payloads with 413
_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$")
_S3_XML_SUBRESOURCES = {
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "tagging",
    "versioning",
    "website",
}
MALFORMED = "The XML you provided was not well-formed or did not validate against our published schema"


def loopback_host(host: str) -> str | None:
    """The host name of a well-formed Host header if it names this machine, else None."""
    match = _HOST.match(host.strip().lower())
    if not match or (match.group(2) and int(match.group(2)) > 65535):
        return None
    name = match.group(1)
    if name in ("127.0.0.1", "localhost", "[::1]") or (name.endswith(".localhost") and ".." not in name):
        return name
    return None


def s3_xml_problem(method: str, query: str, path: str, body: bytes) -> tuple[int, str, str] | None:
    """(status, code, message) when an S3 request's XML body is refused, None when it may pass."""
    params = {part.partition("=")[0] for part in query.split("&") if part}
    bucket_level = path.strip("/").count("/") == 0
    configures = bool(params & _S3_XML_SUBRESOURCES) and method in ("PUT", "POST")
    completes = method == "POST" and "uploadId" in params
    creates = method == "PUT" and bucket_level and not params and path.strip("/") != ""
    if not (configures or completes or creates):
        return None
    if not body.strip():  # a canned ACL in a header, a restore without options: moto decides
        return (400, "MalformedXML", MALFORMED) if params & {"website", "tagging"} else None
    root = parse_xml(body)
    if root is None:
        return 400, "MalformedXML", MALFORMED
    if "website" in params and method == "PUT":
        return website_problem(root)
    return None


def parse_xml(body: bytes) -> ET.Element | None:
    """The document's root, or None when it is not well-formed or declares a DTD/entities."""

    def refuse(*_: object) -> None:
        raise ValueError("a DTD is not accepted")

    checker = expat.ParserCreate()
    checker.StartDoctypeDeclHandler = refuse
    checker.EntityDeclHandler = refuse
    checker.ExternalEntityRefHandler = refuse
    try:
        checker.Parse(body, True)
        return ET.fromstring(body)
    except (expat.ExpatError, ET.ParseError, ValueError):
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(node: ET.Element, allowed: set[str]) -> dict[str, ET.Element] | None:
    """Children by name, None if one is unknown or repeated (S3 answers MalformedXML)."""
    found: dict[str, ET.Element] = {}
    for child in node:
        name = _local(child.tag)
        if name not in allowed or name in found:
            return None
        found[name] = child
    return found


def website_problem(root: ET.Element) -> tuple[int, str, str] | None:
    """S3's PutBucketWebsite rules on a parsed WebsiteConfiguration."""
    malformed = (400, "MalformedXML", MALFORMED)
    if _local(root.tag) != "WebsiteConfiguration":
        return malformed
    top = _children(root, {"ErrorDocument", "IndexDocument", "RedirectAllRequestsTo", "RoutingRules"})
    if top is None:
        return malformed
    if "RedirectAllRequestsTo" in top:
        if len(top) > 1:
            return _invalid(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing/Redirect "
                "configurations."
            )
        redirect = _children(top["RedirectAllRequestsTo"], {"HostName", "Protocol"})
        if redirect is None or not _text(redirect.get("HostName")):
            return malformed
        return _protocol_problem(redirect.get("Protocol"))
    if "IndexDocument" not in top:
        return _invalid("A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty")
    index = _children(top["IndexDocument"], {"Suffix"})
    if index is None or "Suffix" not in index:
        return malformed
    suffix = _text(index["Suffix"])
    if not suffix or "/" in suffix:
        return _invalid("The IndexDocument Suffix is not well formed")
    if "ErrorDocument" in top:
        error = _children(top["ErrorDocument"], {"Key"})
        if error is None or not _text(error.get("Key")):
            return _invalid("The ErrorDocument Key is not well formed") if error is not None else malformed
    if "RoutingRules" in top:
        rules = list(top["RoutingRules"])
        if not rules or any(_local(rule.tag) != "RoutingRule" for rule in rules):
            return malformed
        for rule in rules:
            problem = _rule_problem(rule)
            if problem:
                return problem
    return None


def _rule_problem(rule: ET.Element) -> tuple[int, str, str] | None:
    malformed = (400, "MalformedXML", MALFORMED)
    parts = _children(rule, {"Condition", "Redirect"})
    if parts is None or "Redirect" not in parts:
        return malformed
    if "Condition" in parts:
        condition = _children(parts["Condition"], {"KeyPrefixEquals", "HttpErrorCodeReturnedEquals"})
        if condition is None:
            return malformed
        if not condition:
            return _invalid(
                "Condition cannot be empty. To redirect all requests without a condition, "
                "the condition element shouldn't be present."
            )
        code = condition.get("HttpErrorCodeReturnedEquals")
        if code is not None and not re.fullmatch(r"[45]\d\d", _text(code)):
            return _invalid(
                f"The provided HTTP error code ({_text(code)}) is not valid. Valid codes are 4XX or 5XX."
            )
    redirect = _children(
        parts["Redirect"],
        {"HostName", "HttpRedirectCode", "Protocol", "ReplaceKeyPrefixWith", "ReplaceKeyWith"},
    )
    if redirect is None:
        return malformed
    if not redirect:
        return _invalid("Redirect must name at least one of HostName, Protocol, ReplaceKeyPrefixWith, ...")
    if "ReplaceKeyPrefixWith" in redirect and "ReplaceKeyWith" in redirect:
        return _invalid("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
    code = redirect.get("HttpRedirectCode")
    if code is not None and (not re.fullmatch(r"3\d\d", _text(code)) or _text(code) == "300"):
        return _invalid(
            f"The provided HTTP redirect code ({_text(code)}) is not valid. Valid codes are 3XX except 300."
        )
    return _protocol_problem(redirect.get("Protocol"))


def _protocol_problem(protocol: ET.Element | None) -> tuple[int, str, str] | None:
    if protocol is not None and _text(protocol) not in ("http", "https"):
        return _invalid(
            "Invalid protocol, protocol can be http or https. "
            "If not defined the protocol will be selected automatically."
        )
    return None


def _invalid(message: str) -> tuple[int, str, str]:
    return 400, "InvalidArgument", message


def _text(node: ET.Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


class BodyTimeout(Exception):
    """The client declared a body and stopped sending it."""


class BodyTooLarge(Exception):
    """The body is larger than the endpoint accepts."""


def read_body(environ: dict, limit: int | None = None) -> bytes:
    """Read the whole request body (bounded by limit) and put it back as wsgi.input."""
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or ""
    if declared.isdigit():
        remaining: int | None = int(declared)
        if limit is not None and remaining > limit:
            raise BodyTooLarge
    elif environ.get("wsgi.input_terminated"):
        remaining = None  # chunked: read to its end
    else:
        remaining = 0
    chunks = []
    received = 0
    try:
        while remaining is None or remaining > 0:
            want = 1024 * 1024 if remaining is None else min(1024 * 1024, remaining)
            chunk = stream.read(want)
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
            if remaining is not None:
                remaining -= len(chunk)
            if limit is not None and received > limit:
                raise BodyTooLarge
    except TimeoutError:
        raise BodyTimeout from None
    if remaining:
        raise BodyTimeout  # the client closed before sending what it declared
    body = b"".join(chunks)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["wsgi.input_terminated"] = True
    return body
