"""The local cloud refuses a request signed for a region AWS does not have, as AWS does.

AWS answers 403 "Credential should be scoped to a valid region" (S3: AuthorizationHeaderMalformed);
without this, moto (run with MOTO_ALLOW_NONEXISTENT_REGION for regions newer than its data)
would build a backend for ``mars-1`` or fail with a KeyError deep inside.
"""

import json
import re

from localcloud import regions

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"X-Amz-Credential=[^&]*?(?:/|%2F)\d{8}(?:/|%2F)([^/&%]+)(?:/|%2F)([^/&%]+)")
# The services of the template that speak the query protocol (XML errors); the others speak JSON.
_QUERY_SERVICES = {"sts", "cloudformation", "monitoring", "iam", "sqs", "sns", "ec2"}


def scope(environ: dict) -> tuple[str, str] | None:
    """(region, service) of a SigV4-signed request, from its Authorization header or query."""
    found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", "")) or _QUERY_SCOPE.search(
        environ.get("QUERY_STRING", "")
    )
    return (found.group(1), found.group(2)) if found else None


def refusal(environ: dict) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """The 403 for a request scoped to an unknown region (status, headers, body), or None."""
    found = scope(environ)
    if not found or regions.known(found[0]):
        return None
    region, service = found
    message = f"Credential should be scoped to a valid region, not '{region}'."
    if service == "s3":
        body = (
            "<?xml version='1.0' encoding='UTF-8'?><Error><Code>AuthorizationHeaderMalformed</Code>"
            f"<Message>The authorization header is malformed; the region '{region}' is wrong.</Message>"
            "</Error>"
        ).encode()
        return "400 Bad Request", [("Content-Type", "application/xml")], body
    if service in _QUERY_SERVICES:
        body = (
            "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
            f"<Message>{message}</Message></Error></ErrorResponse>"
        ).encode()
        return "403 Forbidden", [("Content-Type", "text/xml")], body
    headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", "InvalidSignatureException")]
    return (
        "403 Forbidden",
        headers,
        json.dumps({"__type": "InvalidSignatureException", "message": message}).encode(),
    )
