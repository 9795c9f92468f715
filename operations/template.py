"""The stack's template: where it lives, its parameters, and validation with cfn-lint."""

import hashlib
from functools import cache
from importlib.resources import files
from pathlib import Path

from operations.errors import TemplateInvalid

DEFAULT_TEMPLATE = Path(str(files("cloudformation") / "resizer.yaml"))


def read(path: Path | None = None) -> str:
    path = path or DEFAULT_TEMPLATE
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateInvalid(f"cannot read the template {path}: {exc.strerror}") from None


def parameters(body: str) -> dict[str, dict]:
    """The template's Parameters section: name -> definition (read without cfn-lint, which is slow
    to import: a deploy with nothing to change needs only this section)."""
    section = _top_level_section(body, "Parameters")
    if section is not None:
        try:
            return dict(_sections(section).get("Parameters") or {})
        except TemplateInvalid:
            pass  # the whole template's error says where
    return dict(_sections(body).get("Parameters") or {})


def _top_level_section(body: str, name: str) -> str | None:
    """The lines of a YAML template's top-level ``name:`` block (about a tenth of this template)."""
    lines = body.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == f"{name}:"), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " #\t"):
        end += 1
    return "".join(lines[start:end])


@cache
def _sections(body: str) -> dict:
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it: 10x faster

    class Loader(base):  # type: ignore[misc, valid-type]
        """YAML or JSON, with CloudFormation's short forms (!Ref, !Sub...) read as plain values."""

    def untagged(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> object:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_scalar(node)  # type: ignore[arg-type]

    Loader.add_multi_constructor("!", untagged)
    try:
        decoded = yaml.load(body, Loader=Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())
        raise TemplateInvalid(
            f"the template has 1 error(s): it is not valid YAML/JSON: {problem}", [problem]
        ) from None
    if not isinstance(decoded, dict):
        raise TemplateInvalid("the template is not a YAML/JSON mapping")
    return decoded


def sections(body: str) -> dict:
    """The whole template, decoded (short forms such as !Ref read as plain values)."""
    return _sections(body)


def digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


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
