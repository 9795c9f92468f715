"""Patches on moto's classes and modules: checked against what they expect, and undoable.

The local cloud installs its fidelity fixes in process (the server, and the tests that run moto
in process). Every patch goes through ``Patches.set(owner, name, value, expect=...)``: the target
must exist and have the signature the patch was written for, else install fails with
PatchTargetChanged (naming the target, moto's version and what was expected) instead of silently
adding an attribute nobody calls or wrapping a method whose arguments moved. ``undo`` gives moto
back exactly what each attribute held.
"""

import contextlib
import dis
import functools
import importlib.metadata
import inspect
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_ABSENT = object()
PROPERTY = "property"  # the expectation for a property (its getter takes only self)


@functools.cache
def moto_version() -> str:
    try:
        return importlib.metadata.version("moto")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


class PatchTargetChanged(RuntimeError):
    """A patch's target is missing or no longer has the signature the patch was written for."""

    def __init__(self, target: str, expected: str, found: str) -> None:
        self.target, self.expected, self.found = target, expected, found
        super().__init__(
            f"localcloud cannot patch {target} on moto {moto_version()}: expected {expected}, found {found}. "
            "moto changed under this patch; review the patch against this moto version (or pin moto)."
        )


def shape(target: Any) -> str:
    """What a patch target is, in the form ``expect`` is written: ``(self, a, *args, b, **kw)`` for a
    callable (parameter names and kinds, without annotations or defaults), ``property``, or the
    type's name of anything else."""
    if isinstance(target, property):
        return PROPERTY
    if not callable(target):
        return type(target).__name__
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return "a callable without a signature"
    bare = [p.replace(annotation=p.empty, default=p.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=bare, return_annotation=signature.empty))


def _normal(expect: str) -> str:
    text = " ".join(expect.split())
    if text == PROPERTY or (text.startswith("(") and text.endswith(")")):
        return text
    return f"({text})"


def _name(owner: Any, name: str = "") -> str:
    if inspect.ismodule(owner):
        base = owner.__name__
    else:
        module = getattr(owner, "__module__", None)
        qualified = getattr(owner, "__qualname__", None) or type(owner).__qualname__
        base = f"{module}.{qualified}" if module else qualified
    return f"{base}.{name}" if name else base


@dataclass(frozen=True)
class Patch:
    """One installed patch: what was replaced, by what, and the signature it was expected to have."""

    owner: Any
    name: str
    expect: str
    original: Any  # what owner.__dict__ held (_ABSENT when the attribute was inherited)
    replaced: Any  # the attribute as looked up on owner before the patch (possibly inherited)
    value: Any

    @property
    def target(self) -> str:
        return _name(self.owner, self.name)


class Patches:
    """A group of attribute patches, undone together in reverse order."""

    registry: "list[Patches]" = []  # every group created, so a test can check each installed patch

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.RLock()
        self._installed: list[Patch] = []
        Patches.registry.append(self)

    @property
    def active(self) -> bool:
        return bool(self._installed)

    @property
    def installed(self) -> list[Patch]:
        return list(self._installed)

    def set(self, owner: Any, name: str, value: Any, *, expect: str) -> None:
        """Replace owner.name by value, checking first that owner.name exists and has the shape expect
        (e.g. ``"self, log_group_name, *args, **kwargs"``, or ``PROPERTY``); PatchTargetChanged if not."""
        current = check(owner, name, expect)
        self._installed.append(
            Patch(owner, name, _normal(expect), owner.__dict__.get(name, _ABSENT), current, value)
        )
        setattr(owner, name, value)

    @contextlib.contextmanager
    def installing(self) -> Iterator[None]:
        """Install a set of patches all or nothing: any error undoes those already set."""
        with self.lock:
            try:
                yield
            except BaseException:
                self.undo()
                raise

    def undo(self) -> None:
        with self.lock:
            while self._installed:
                patch = self._installed.pop()
                if patch.original is _ABSENT:
                    delattr(patch.owner, patch.name)
                else:
                    setattr(patch.owner, patch.name, patch.original)


def check(owner: Any, name: str, expect: str) -> Any:
    """owner.name (as stored, not bound), after checking that it exists and has the shape expect (see
    ``shape``); PatchTargetChanged if not."""
    try:
        current = inspect.getattr_static(owner, name)
    except AttributeError:
        raise PatchTargetChanged(_name(owner, name), _normal(expect), "no such attribute") from None
    found = shape(current.__func__ if isinstance(current, staticmethod | classmethod) else current)
    if found != _normal(expect):
        raise PatchTargetChanged(_name(owner, name), _normal(expect), found)
    return current


def require_instance_attribute(cls: type, attribute: str) -> None:
    """PatchTargetChanged unless cls's methods assign ``self.<attribute>``: for a patch that reads an
    instance attribute (which cannot be seen on the class before an instance exists). Reads the
    compiled methods (a store to the attribute on their first argument), not the source: parsing a
    module's source took 0.3 s of every start on a loaded machine."""
    target = f"{_name(cls)} (instances' .{attribute})"
    codes = [code for value in vars(cls).values() for code in _codes(value)]
    if not codes:
        raise PatchTargetChanged(target, f"self.{attribute} = ...", "no methods to check")
    if not any(_stores_on_self(code, attribute) for code in codes):
        raise PatchTargetChanged(target, f"self.{attribute} = ...", "no such assignment")


def _codes(value: Any) -> list[types.CodeType]:
    """The code objects of a class attribute (a function, static/class method or property)."""
    if isinstance(value, staticmethod | classmethod):
        value = value.__func__
    if isinstance(value, property):
        return [c for f in (value.fget, value.fset, value.fdel) if f is not None for c in _codes(f)]
    value = inspect.unwrap(value) if callable(value) else value
    code = getattr(value, "__code__", None)
    return [code] if isinstance(code, types.CodeType) else []


def _stores_on_self(code: types.CodeType, attribute: str, owner: str | None = None) -> bool:
    """Whether code (or a function nested in it) stores ``attribute`` on its first argument."""
    if owner is None:
        owner = code.co_varnames[0] if code.co_argcount else None
    if owner is None:
        return False
    if attribute in code.co_names:
        previous = None
        for instruction in dis.get_instructions(code):
            if (
                instruction.opname == "STORE_ATTR"
                and instruction.argval == attribute
                and previous is not None
                and _loads(previous, owner)
            ):
                return True
            previous = instruction
    return any(
        _stores_on_self(const, attribute, owner if owner in const.co_freevars else None)
        for const in code.co_consts
        if isinstance(const, types.CodeType)
    )


def _loads(instruction: dis.Instruction, name: str) -> bool:
    """Whether instruction pushes the local or cell ``name`` last: LOAD_FAST and LOAD_DEREF, and the
    forms newer Pythons use (3.12 LOAD_FAST_CHECK; 3.13 LOAD_FAST_LOAD_FAST, whose argval is the pair
    of names, for ``self.name = name``; 3.14 LOAD_FAST_BORROW...)."""
    if not instruction.opname.startswith(("LOAD_FAST", "LOAD_DEREF")):
        return False
    loaded = instruction.argval
    return (loaded[-1] if isinstance(loaded, tuple) and loaded else loaded) == name
