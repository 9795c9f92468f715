"""AWS::NoValue in a list: CloudFormation removes the item, moto's ``clean_json`` leaves a None.

``!If [Condition, {statement}, !Ref AWS::NoValue]`` in a policy's Statement list (the template's
conditional grants: the signing key's, X-Ray's) must yield no statement when the condition is
false; moto resolves the Ref to None and keeps it in the list, which no AWS API would accept. The
wrapped ``clean_json`` drops the items of a list that resolve to AWS::NoValue (None).
"""

from typing import Any

from localcloud import patching


def install(patches: patching.Patches) -> None:
    """Wrap moto's clean_json through ``patches`` (undone with them)."""
    from moto.cloudformation import parsing

    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, list):
            cleaned = (parsing.clean_json(value, resources_map) for value in resource_json)
            return [value for value in cleaned if value is not None]
        return original(resource_json, resources_map)

    patches.set(parsing, "clean_json", clean_json, expect="resource_json, resources_map")
