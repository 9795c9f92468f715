"""One adapter from moto's CloudFormationModel protocol to a small provider per resource type.

moto calls a model's ``create_from_cloudformation_json``, ``update_from_cloudformation_json`` and
``delete_from_cloudformation_json`` with positional details (names, the raw resource JSON, account,
region). ``model(provider)`` implements that protocol once and hands each call to the provider's
``create(props, ctx)``, ``update(props, ctx)`` or ``delete(props, ctx)``: the resource's properties
and a ``Context`` (in the manner of LocalStack's resource providers and their request object).

A provider's ``create`` returns the object the stack keeps: moto's own backend object wherever moto
has one (a ``FakeBucket``, a ``RestAPI``...), so every service API sees what the stack made, or a
``Made`` (a physical id and its ``GetAtt`` attributes) where moto has none. ``update`` changes that
object in place, or returns a new object with a new physical id: a replacement, whose old object the
stack engine deletes in its cleanup phase, as CloudFormation does. ``delete`` is given the physical
id (``ctx.name``) and the resolved properties.
"""

import dataclasses
import functools
import operator
from typing import Any, ClassVar

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.core.common_models import CloudFormationModel

from localcloud import patching

#: moto's model protocol: the methods moto calls on a model, with the parameter names it uses.
PROTOCOL = {
    "create_from_cloudformation_json": (
        "cls, resource_name, cloudformation_json, account_id, region_name, **kwargs"
    ),
    "update_from_cloudformation_json": (
        "cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name"
    ),
    "delete_from_cloudformation_json": "cls, resource_name, cloudformation_json, account_id, region_name",
}


def check_protocol() -> None:
    """PatchTargetChanged unless moto's CloudFormationModel still has the protocol the adapter implements."""
    for method, expect in PROTOCOL.items():
        patching.check(CloudFormationModel, method, expect)


@dataclasses.dataclass(frozen=True)
class Context:
    """A handler call's details besides the properties.

    ``name``: on create, the name for the resource (moto's generated one, or its name property);
    on update, the new name; on delete, the physical id. ``current``: on update, the object the
    stack holds.
    """

    name: str
    account_id: str
    region_name: str
    current: Any = None

    def named(self, name: str) -> "Context":
        return dataclasses.replace(self, name=name)


class Provider:
    """One resource type's handlers: a subclass per type, listed in its service module's PROVIDERS.

    ``update`` is a replacement (a create under the new name) unless the provider says otherwise,
    as for a type whose every property requires one.
    """

    TYPE: ClassVar[str] = ""  # the CloudFormation type, e.g. AWS::S3::Bucket
    NAME_PROPERTY: ClassVar[str] = ""  # the property that names the resource (BucketName...), if any
    ATTRIBUTES: ClassVar[Any] = None  # what answers has_cfn_attr: a moto class or a Made; None: no GetAtt

    def create(self, props: dict[str, Any], ctx: Context) -> Any:
        raise NotImplementedError

    def update(self, props: dict[str, Any], ctx: Context) -> Any:
        return self.create(props, ctx)

    def delete(self, props: dict[str, Any], ctx: Context) -> None:
        raise NotImplementedError


class Made:
    """An object a provider makes where moto has none (a dataclass of what finds its resource): the
    attribute that holds its physical id (PHYSICAL_ID, dotted for a nested one), and the GetAtt
    attributes in CFN_ATTRIBUTES (attribute name -> the Python attribute that holds its value)."""

    PHYSICAL_ID: ClassVar[str] = ""
    CFN_ATTRIBUTES: ClassVar[dict[str, str]] = {}

    @property
    def physical_resource_id(self) -> str:
        return operator.attrgetter(self.PHYSICAL_ID)(self)

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.CFN_ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if attribute_name not in self.CFN_ATTRIBUTES:
            raise UnformattedGetAttTemplateException()
        return getattr(self, self.CFN_ATTRIBUTES[attribute_name])

    def is_created(self) -> bool:
        return True


def create_with_moto(model: Any, props: dict[str, Any], ctx: Context) -> Any:
    """What moto's own model of the type creates (for a provider that adds to it)."""
    return model.create_from_cloudformation_json(
        ctx.name, {"Properties": props}, ctx.account_id, ctx.region_name
    )


def _props(cloudformation_json: dict[str, Any]) -> dict[str, Any]:
    return cloudformation_json.get("Properties") or {}


class _Adapter:
    """moto's model protocol, once: each call goes to ``provider`` (set by ``model``)."""

    provider: ClassVar[Provider]

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.provider.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.provider.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        attributes = cls.provider.ATTRIBUTES
        return attributes is not None and attributes.has_cfn_attr(attr)

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[override]
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        return cls.provider.create(
            _props(cloudformation_json), Context(resource_name, account_id, region_name)
        )

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[override]
        cls,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        ctx = Context(new_resource_name, account_id, region_name, current=original_resource)
        return cls.provider.update(_props(cloudformation_json), ctx)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[override]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
    ) -> None:
        cls.provider.delete(_props(cloudformation_json), Context(resource_name, account_id, region_name))


def model(provider: type[Provider]) -> type[CloudFormationModel]:
    """The CloudFormationModel moto looks up for the provider's type. It subclasses CloudFormationModel
    directly, as moto's lookup (``CloudFormationModel.__subclasses__()``) requires; for one type, the
    subclass defined last wins, and these are defined after moto's. moto sees it only while
    ``show_models(True)`` (``localcloud.cloudformation.install``): defining it changes no plain moto."""
    name = provider.__name__.removesuffix("Provider") + "Model"
    namespace = {"provider": provider(), "__module__": provider.__module__, "__doc__": provider.__doc__}
    made = type(name, (_Adapter, CloudFormationModel), namespace)
    _hide_until_shown(made)
    return made


# moto's model lookups are lru_cache'd functions over CloudFormationModel.__subclasses__(): every
# class model() defines would be found by plain moto too (in another test, or in a process that
# imported this package without installing the local cloud), so get_model_list is replaced, before
# the first model exists, by one that leaves them out unless shown. Installed once, never undone.
_lookup = patching.Patches("cloudformation model lookup")
_ours: set[type[CloudFormationModel]] = set()
_shown = False


def _hide_until_shown(made: type[CloudFormationModel]) -> None:
    from moto.cloudformation import parsing

    def get_model_list() -> list[type[CloudFormationModel]]:
        models = CloudFormationModel.__subclasses__()
        return models if _shown else [m for m in models if m not in _ours]

    with _lookup.lock:
        if not _lookup.active:
            _lookup.set(parsing, "get_model_list", functools.lru_cache(get_model_list), expect="")
        _ours.add(made)
    clear_model_caches()


def show_models(shown: bool) -> None:
    """Let moto's CloudFormation look up the models model() made (True) or not (False, as moto ships)."""
    global _shown
    with _lookup.lock:
        _shown = shown
        clear_model_caches()


def clear_model_caches() -> None:
    """Empty moto's cached model lookups, so that the next one sees what is shown now."""
    from moto.cloudformation import parsing

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
