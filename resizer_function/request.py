"""The request grammar: ``/{size}[,{options}]/{key}`` parsed, validated and formatted canonically.

One output has exactly one URL: options come in the order fit, quality, format; defaults are
not spelled out (``cover`` with both sides given, a fit with one side given); numbers have no
leading zeros; everything is lower case. Any other spelling of a valid request is refused with
the canonical path, so the bucket never holds two copies of the same image. Two defaults depend
on the original: its own format (``jpeg`` on a JPEG) and that format's quality (``q80`` on a
JPEG); ``ResizeRequest.for_source`` leaves them out once the original has been read.
"""

import re
from dataclasses import dataclass, replace
from urllib.parse import quote

from resizer_function.errors import RequestRefused

FITS = ("cover", "contain", "fill", "inside", "outside")
FORMATS = ("jpeg", "png", "webp", "avif")
ALIASES = {"jpg": "jpeg"}
MAX_KEY_BYTES = 1024  # S3's limit for the derived object's key
_SIZE = re.compile(r"(\d{1,6})?x(\d{1,6})?")
_QUALITY = re.compile(r"q(\d{1,3})")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")  # and lone surrogates
# The quality each lossy format gets when none is asked for; asking for it is non-canonical.
DEFAULT_QUALITY = {"jpeg": 80, "webp": 80, "avif": 60}
# Left unencoded in the URLs of outputs ('+' is encoded: S3 reads it as a space).
URL_SAFE = "/,~!$&'()*;=:@"


@dataclass(frozen=True)
class ResizeRequest:
    """A valid request: the size, its options (None = default) and the original's key."""

    width: int | None
    height: int | None
    key: str
    fit: str | None = None
    quality: int | None = None
    format: str | None = None

    @property
    def size(self) -> str:
        return f"{self.width or ''}x{self.height or ''}"

    @property
    def spec(self) -> str:
        quality = f"q{self.quality}" if self.quality else None
        return ",".join(p for p in (self.size, self.fit, quality, self.format) if p)

    @property
    def path(self) -> str:
        """The canonical path, decoded: also the derived object's key after its leading '/'."""
        return f"/{self.spec}/{self.key}"

    @property
    def url_path(self) -> str:
        """The canonical path, percent-encoded for a URL."""
        return quote(self.path, safe=URL_SAFE)

    @property
    def effective_fit(self) -> str:
        return self.fit or "cover"

    @property
    def depends_on_source(self) -> bool:
        """Whether its canonical spelling depends on the original's format (see for_source)."""
        return self.format is not None or self.quality is not None

    def for_source(self, default_format: str) -> "ResizeRequest":
        """This request with the defaults of an original whose default output is default_format left out.

        The format is the original's own (e.g. ``jpeg`` on a JPEG) or a quality is the output
        format's default (``q80`` on a JPEG), or a quality is given for PNG output, which has none.
        """
        fmt = None if self.format == default_format else self.format
        output = fmt or default_format
        quality = self.quality
        if quality is not None and (output not in DEFAULT_QUALITY or DEFAULT_QUALITY[output] == quality):
            quality = None
        return replace(self, format=fmt, quality=quality)


def parse_size(text: str) -> tuple[int | None, int | None]:
    """``WxH``, ``Wx`` or ``xH`` -> (width, height); leading zeros are accepted here."""
    match = _SIZE.fullmatch(text.lower())
    if not match or match.group(0) == "x":
        raise RequestRefused(400, "invalid_size", f"size {text!r} is not WxH, Wx or xH")
    width, height = (int(g) if g is not None else None for g in match.groups())
    if width == 0 or height == 0:
        raise RequestRefused(400, "invalid_size", f"size {text!r} has a zero side")
    return width, height


def derived_spec(key: str) -> str:
    """The size spec a derived key starts with ('300x200,webp'), or '' for an original."""
    head, slash, rest = key.partition("/")
    if not slash or not rest:
        return ""
    try:
        parse_size(head.split(",")[0])
    except RequestRefused:
        return ""
    return head


def parse_path(path: str) -> ResizeRequest:
    """Parse a decoded request path; raise RequestRefused(400) naming what is wrong."""
    spec, slash, key = path.removeprefix("/").partition("/")
    if not slash or not key:
        raise RequestRefused(400, "invalid_path", "expected /{size}[,{options}]/{key}")
    check_key(key)
    size, *options = spec.split(",")
    width, height = parse_size(size)
    fields: dict[str, object] = {}
    for option in options:
        name, value = _option(option.lower())
        if name in fields:
            raise RequestRefused(400, "invalid_option", f"{name} is given twice in {spec!r}")
        fields[name] = value
    if fields.get("format") == "png" and "quality" in fields:
        raise RequestRefused(400, "invalid_option", "a quality does not apply to png output")
    if fields.get("fit") == "cover" or (fields.get("fit") and not (width and height)):
        del fields["fit"]  # the default, or meaningless with one side: not spelled out
    if "quality" in fields and DEFAULT_QUALITY.get(fields.get("format")) == fields["quality"]:  # type: ignore[arg-type]
        del fields["quality"]
    request = ResizeRequest(width, height, key, **fields)  # type: ignore[arg-type]
    if len(request.path.encode("utf-8")) - 1 > MAX_KEY_BYTES:
        raise RequestRefused(400, "invalid_key", "the resized key would be longer than S3 allows")
    if request.spec != spec:
        raise non_canonical(request)
    return request


def non_canonical(canonical: ResizeRequest) -> RequestRefused:
    """The 400 that names the one canonical path of a request spelled another way."""
    return RequestRefused(
        400,
        "non_canonical",
        f"use the canonical path {canonical.path} (options in the order fit, quality, "
        "format; defaults left out)",
        canonical=canonical.path,
    )


def _option(option: str) -> tuple[str, object]:
    if option in FITS:
        return "fit", option
    if option in FORMATS or option in ALIASES:
        return "format", ALIASES.get(option, option)
    if match := _QUALITY.fullmatch(option):
        quality = int(match.group(1))
        if not 1 <= quality <= 100:
            raise RequestRefused(400, "invalid_option", f"quality {option!r} is not q1..q100")
        return "quality", quality
    raise RequestRefused(
        400,
        "invalid_option",
        f"unknown option {option!r}: expected a fit ({', '.join(FITS)}), qN, "
        f"or a format ({', '.join(FORMATS)})",
    )


def check_key(key: str) -> None:
    """Refuse keys that are unsafe or that name a derived object rather than an original."""
    if _CONTROL.search(key):
        raise RequestRefused(400, "invalid_key", "the key contains control characters")
    segments = key.split("/")
    if any(s in (".", "..") for s in segments):
        raise RequestRefused(400, "invalid_key", "the key contains a '.' or '..' segment")
    head = _SIZE.fullmatch(segments[0].split(",")[0].lower())
    if head and head.group(0) != "x" and len(segments) > 1:
        raise RequestRefused(400, "invalid_key", "the key is itself a resized path")
