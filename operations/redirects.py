"""Follow the function's redirect to the stored image (the website or CDN URL it points to)."""

from operations.errors import EndpointUnreachable, NotFound
from operations.invoke import HttpResponse

MAX_BYTES = 64 * 1024 * 1024  # far above any image the function stores


def location(http: HttpResponse) -> str | None:
    """Where a 3xx answer points, or None for any other answer."""
    if not 300 <= http.status < 400:
        return None
    return next((v for k, v in http.headers.items() if k.lower() == "location"), None)


def fetch(url: str, *, timeout: float = 30.0) -> HttpResponse:
    """GET url following redirects, as a browser does; the final 200's headers and body.

    Only http(s) URLs are fetched: the Location is the stack's own website or CDN URL.
    """
    import urllib.error  # imported here: 0.1 s that every other command would pay
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise NotFound(f"the function redirected to {url!r}, which is not an http(s) URL")
    request = urllib.request.Request(url, headers={"User-Agent": "resizer-cli"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            body = reply.read(MAX_BYTES + 1)
            headers = {k: v for k, v in reply.headers.items()}
            status = reply.status
    except urllib.error.HTTPError as error:
        raise NotFound(
            f"the redirect to {url} answered {error.code} {error.reason}",
            hint="the stored image should be there: check the bucket's website (or CDN) configuration",
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise EndpointUnreachable(f"cannot fetch {url}: {reason}") from None
    if len(body) > MAX_BYTES:
        raise NotFound(f"{url} is larger than {MAX_BYTES} bytes: not an image the function stored")
    return HttpResponse(status, headers, body)
