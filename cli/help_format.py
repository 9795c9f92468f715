"""`--help` without noise: flags show no type column (Typer labels them ``<bool>``)."""

from typer.core import TyperOption

_typed = TyperOption.display_type_rich


def _display_type_rich(self: TyperOption, ctx):
    """A flag takes no value, so it has no type to show; other options keep Typer's label."""
    if self.is_flag or self.count:
        return None
    return _typed(self, ctx)


TyperOption.display_type_rich = _display_type_rich  # type: ignore[method-assign]
