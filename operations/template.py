"""The stack's template: where it lives, its parameters, and validation with cfn-lint."""

from functools import cache
from importlib.resources import files
from pathlib import Path

from operations.errors import ConfigError, TemplateInvalid

DEFAULT_TEMPLATE = Path(str(files("cloudformation") / "resizer.yaml"))


def read(path: Path | None = None) -> str:
    path = path or DEFAULT_TEMPLATE
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateInvalid(f"cannot read the template {path}: {exc.strerror}") from None


@cache
def _decoded(body: str) -> dict:
    from cfnlint.decode import decode_str

    decoded, problems = decode_str(body)
    if problems or not isinstance(decoded, dict):
        raise TemplateInvalid("the template is not valid YAML/JSON", [str(p) for p in problems or []])
    return decoded


def parameters(body: str) -> dict[str, dict]:
    """The template's Parameters section: name -> definition."""
    return dict(_decoded(body).get("Parameters", {}))


def lint(body: str, region: str) -> None:
    """Raise TemplateInvalid listing cfn-lint's errors (warnings and notes do not stop a deploy)."""
    from cfnlint.api import ManualArgs, lint

    matches = lint(body, config=ManualArgs(regions=[region]))
    problems = [
        f"{m.rule.id} line {m.linenumber}: {m.message}" for m in matches if m.rule.severity == "error"
    ]
    if problems:
        raise TemplateInvalid(
            f"the template has {len(problems)} error(s): {problems[0]}", problems, hint="run cfn-lint on it"
        )


def check_parameters(body: str, given: dict[str, str], required_by_tool: set[str]) -> None:
    """Unknown names, and names only the tool sets, are a ConfigError that lists the settable ones."""
    known = set(parameters(body))
    reserved = sorted(set(given) & required_by_tool)
    if reserved:
        raise ConfigError(f"{', '.join(reserved)} is set by deploy itself (it publishes the code)")
    unknown = sorted(set(given) - known)
    if unknown:
        settable = ", ".join(sorted(known - required_by_tool))
        raise ConfigError(
            f"unknown parameter(s) {', '.join(unknown)}", hint=f"the template takes: {settable}"
        )
