"""CloudFormation resource import (ChangeSetType IMPORT) into a new stack, which moto lacks.

As on AWS: every resource of an import template must exist already, have a DeletionPolicy of
Retain (or RetainExceptOnCreate) and name its identifier in the template; executing the change
set creates nothing, it records the existing resources as the stack's (IMPORT_IN_PROGRESS,
IMPORT_COMPLETE) and the stack ends IMPORT_COMPLETE, ready for a normal update. The local cloud
imports S3 buckets only (the one type a retained resource of this project's template has).
"""

from typing import Any

from moto.cloudformation.exceptions import ValidationError

from localcloud import cfn_engine

_IDENTIFIERS = {"AWS::S3::Bucket": "BucketName"}


def _bucket(account_id: str, name: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["aws"].buckets.get(name)


def check(template: dict[str, Any], account_id: str) -> None:
    """ValidationError unless every resource of the template can be imported (at CreateChangeSet)."""
    for lid, body in (template.get("Resources") or {}).items():
        kind = body.get("Type")
        if kind not in _IDENTIFIERS:
            raise ValidationError(
                message=f"Resource {lid}: the local cloud imports {', '.join(_IDENTIFIERS)} only"
            )
        if body.get("DeletionPolicy") not in ("Retain", "RetainExceptOnCreate"):
            raise ValidationError(
                message=f"The following resources to import [{lid}] must have DeletionPolicy attribute "
                "specified in the template."
            )
        name = (body.get("Properties") or {}).get(_IDENTIFIERS[kind])
        if not isinstance(name, str) or _bucket(account_id, name) is None:
            raise ValidationError(
                message=f"Resource {lid} ({kind} {name}) does not exist and cannot be imported"
            )


def execute(backend: Any, change_set: Any) -> None:
    """Run an IMPORT change set: the stack takes the existing resources as its own."""
    stack = backend.stacks[change_set.stack_id]
    resource_map = cfn_engine.take_change_set(stack, change_set)
    template = stack.template_dict  # the change set's, parsed as the stack took it
    cfn_engine._stack_status(stack, "IMPORT_IN_PROGRESS", "User Initiated")
    run = cfn_engine._Run(stack, resource_map)
    records = cfn_engine.stack_resources(stack)
    for lid, body in (template.get("Resources") or {}).items():
        name = body["Properties"][_IDENTIFIERS[body["Type"]]]
        cfn_engine._event(stack, lid, body["Type"], "IMPORT_IN_PROGRESS", name)
        bucket = _bucket(stack.account_id, name)
        records[lid] = run.record(
            lid, body, bucket, name, dict(body.get("Properties") or {}), "IMPORT_COMPLETE"
        )
        cfn_engine._event(stack, lid, body["Type"], "IMPORT_COMPLETE", name)
    cfn_engine._stack_status(stack, "IMPORT_COMPLETE")
    change_set.execution_status = "EXECUTE_COMPLETE"
