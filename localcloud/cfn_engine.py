"""The stack engine behind moto's CloudFormation: validation, order, events, failure and rollback.

moto resolves intrinsic functions (its ``ResourceMap`` and ``clean_json``) and holds the resource
models; it does not validate templates, create resources in dependency order, report resource
events, or survive a failure (an exception escapes mid-stack, the stack says CREATE_COMPLETE or
keeps half its resources). This module drives moto's models the way CloudFormation drives its
resource handlers:

- a template is refused before anything exists by localcloud.cfn_validation (and a dependency
  cycle by localcloud.cfn_dependencies, which also gives the order).
- ``create_resources`` creates resources in dependency order with CREATE_IN_PROGRESS/COMPLETE
  events; on a failure (CREATE_FAILED with the handler's message) it rolls back: deletes what it
  created in reverse order, keeps DeletionPolicy Retain resources, ends ROLLBACK_COMPLETE.
- ``update_stack`` adds, updates (in place or by replacement) and, in the cleanup phase,
  deletes; on a failure it restores what it changed and ends UPDATE_ROLLBACK_COMPLETE with the
  previous template, parameters and outputs.
- ``delete_stack`` deletes in reverse dependency order, skipping Retain resources.

Each stack keeps its resources as ``StackResource`` records (logical id, type, physical id,
resolved properties, status), which also back ``ListStackResources``.
"""

import contextlib
import copy
import dataclasses
import uuid
from datetime import datetime
from typing import Any

from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.cloudformation.models import Event, Stack
from moto.cloudformation.parsing import (
    OutputMap,
    ResourceMap,
    parse_resource_and_generate_name,
    resource_class_from_type,
    resource_name_property_from_type,
)
from moto.core.exceptions import ServiceException
from moto.core.utils import utcnow
from werkzeug.exceptions import HTTPException

from localcloud import cfn_resources
from localcloud.cfn_dependencies import dependency_order
from localcloud.cfn_validation import parse_template, plain

_SERVICE_NAMES = {"IAM": "Iam", "Logs": "CloudWatchLogs"}
_RETAINED = ("Retain", "RetainExceptOnCreate")


@dataclasses.dataclass
class StackResource:
    """One resource of a stack, as DescribeStackResources reports it (moto's attribute names)."""

    logical_resource_id: str
    cf_resource_type: str
    physical_resource_id: str
    properties: dict[str, Any]
    obj: Any
    resource_status: str
    deletion_policy: str = "Delete"
    update_replace_policy: str = "Delete"
    status_reason: str = ""
    timestamp: datetime = dataclasses.field(default_factory=utcnow)


class InvalidChangeSetStatus(CloudFormationError):
    code = "InvalidChangeSetStatus"


class ResourceFailed(Exception):
    """A resource handler failed; ``reason`` is what CloudFormation's event would say."""

    def __init__(self, logical_id: str, action: str, reason: str) -> None:
        super().__init__(f"{logical_id}: {reason}")
        self.logical_id = logical_id
        self.action = action  # create or update
        self.reason = reason


def stack_resources(stack: Stack) -> dict[str, StackResource]:
    """The stack's live resources by logical id, in dependency (creation) order."""
    return stack.__dict__.setdefault("_localcloud_resources", {})


def _set_resources(stack: Stack, resources: dict[str, StackResource]) -> None:
    stack.__dict__["_localcloud_resources"] = resources


# -- events and failure reasons -----------------------------------------------------------------


def _event(
    stack: Stack, logical_id: str, resource_type: str, status: str, physical_id: str = "", reason: str = ""
) -> None:
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id,
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason or None,
        resource_properties=None,
    )
    event.sendToSns(stack.account_id, stack.region_name, stack.notification_arns)
    stack.events.append(event)


def _stack_status(stack: Stack, status: str, reason: str = "") -> None:
    stack.status = status
    stack.status_reason = reason or None
    stack._add_stack_event(status, resource_status_reason=reason or None)


def _error_parts(exc: BaseException) -> tuple[str, str | None, int]:
    """(message, AWS error code or None, HTTP status) of an exception raised inside moto."""
    if isinstance(exc, HTTPException) and hasattr(exc, "error_type"):
        return str(getattr(exc, "message", "") or exc.description), exc.error_type, int(exc.code or 400)
    if isinstance(exc, ServiceException):
        code = str(exc.code)
        status = 404 if ("NotFound" in code or "NoSuch" in code) else 409 if "Exists" in code else 400
        return str(exc.message), code, status
    if isinstance(exc, ValueError) and len(exc.args) == 2 and all(isinstance(a, str) for a in exc.args):
        return exc.args[1], exc.args[0], 400  # moto's Lambda raises ValueError(code, message)
    return f"{type(exc).__name__}: {exc}", None, 500


def failure_reason(exc: BaseException, resource_type: str) -> str:
    """The ResourceStatusReason CloudFormation gives when a resource handler fails."""
    message, code, status = _error_parts(exc)
    if code is None:
        return f"Internal Failure: {message}"
    segment = resource_type.split("::")[1] if resource_type.count("::") >= 2 else resource_type
    service = _SERVICE_NAMES.get(segment, segment)
    handler_code = (
        "NotFound"
        if status == 404
        else "AlreadyExists"
        if status == 409
        else "AccessDenied"
        if "AccessDenied" in code
        else "InvalidRequest"
        if status == 400
        else "GeneralServiceException"
    )
    return (
        f'Resource handler returned message: "{message} (Service: {service}, Status Code: {status}, '
        f'Request ID: {uuid.uuid4()})" (RequestToken: {uuid.uuid4()}, HandlerErrorCode: {handler_code})'
    )


def _gone(exc: BaseException) -> bool:
    """Whether a delete failed only because the resource is already gone (a success for CFN)."""
    if isinstance(exc, KeyError):
        return True
    _message, code, status = _error_parts(exc)
    return status == 404 or bool(code and ("NotFound" in code or "NoSuch" in code))


# -- one resource -------------------------------------------------------------------------------


def _abstract(method: Any) -> bool:
    return hasattr(method, "__isabstractmethod__")


def _physical_id(obj: Any, name: str) -> str:
    physical = getattr(obj, "physical_resource_id", None)
    if physical is None and obj is not None:
        physical = name  # moto models without one (a Method): the generated name, as AWS does
        with contextlib.suppress(AttributeError):
            obj.physical_resource_id = name
    return str(physical if physical is not None else name)


def _label(obj: Any, logical_id: str, resource_type: str) -> None:
    with contextlib.suppress(AttributeError):  # what moto's own engine sets on each resource
        obj.cf_resource_type = resource_type
        obj.logical_resource_id = logical_id


class _Run:
    """One stack operation: the stack, its account and region, and the map resolving its template."""

    def __init__(self, stack: Stack, resource_map: ResourceMap) -> None:
        self.stack = stack
        self.map = resource_map
        self.account_id = stack.account_id
        self.region_name = stack.region_name

    def enabled(self, body: dict[str, Any]) -> bool:
        condition = body.get("Condition")
        return not condition or bool(self.map.lazy_condition_map[condition])

    def resolve(self, logical_id: str, body: dict[str, Any]) -> tuple[Any, dict[str, Any], str]:
        parsed = parse_resource_and_generate_name(logical_id, copy.deepcopy(body), self.map)
        if parsed is None:  # a no-op type (WaitCondition)
            return None, {"Properties": {}}, f"{self.stack.name}-{logical_id}"
        return parsed

    def record(
        self, logical_id: str, body: dict[str, Any], obj: Any, physical: str, props: dict, status: str
    ) -> StackResource:
        if obj is not None:
            _label(obj, logical_id, body["Type"])
            self.map._parsed_resources[logical_id] = obj
        return StackResource(
            logical_id,
            body["Type"],
            physical,
            props,
            obj,
            status,
            deletion_policy=body.get("DeletionPolicy", "Delete"),
            update_replace_policy=body.get("UpdateReplacePolicy", "Delete"),
        )

    def create(self, logical_id: str, body: dict[str, Any]) -> StackResource:
        resource_type = body["Type"]
        _event(self.stack, logical_id, resource_type, "CREATE_IN_PROGRESS")
        # moto's map creates a resource when anything reads it (moto evaluates a new stack's
        # Exports before creating it): one that exists already is adopted, not created twice.
        adopted = self.map._parsed_resources.get(logical_id)
        try:
            cls, resolved, name = self.resolve(logical_id, body)
            obj = adopted
            if cls is not None and adopted is None:
                obj = cls.create_from_cloudformation_json(
                    name,
                    copy.deepcopy(resolved),
                    self.account_id,
                    self.region_name,
                    LogicalId=logical_id,
                    StackId=self.stack.stack_id,
                    ResourceType=resource_type,
                )
        except Exception as exc:
            reason = failure_reason(exc, resource_type)
            _event(self.stack, logical_id, resource_type, "CREATE_FAILED", reason=reason)
            raise ResourceFailed(logical_id, "create", reason) from exc
        physical = _physical_id(obj, name)
        record = self.record(
            logical_id, body, obj, physical, resolved.get("Properties") or {}, "CREATE_COMPLETE"
        )
        _event(self.stack, logical_id, resource_type, "CREATE_COMPLETE", physical)
        return record

    def update(
        self,
        logical_id: str,
        body: dict[str, Any],
        current: StackResource,
        resolved: dict[str, Any],
        name: str,
    ) -> StackResource:
        """Update in place, or replace (a new physical id: the caller deletes the old one later)."""
        resource_type = body["Type"]
        cls = resource_class_from_type(resource_type)
        _event(self.stack, logical_id, resource_type, "UPDATE_IN_PROGRESS", current.physical_resource_id)
        try:
            if cls is None:
                obj = None
            elif _abstract(cls.update_from_cloudformation_json):  # a moto model that cannot update
                name_property = resource_name_property_from_type(resource_type)
                if (
                    name_property
                    and (resolved.get("Properties") or {}).get(name_property) == current.physical_resource_id
                ):
                    raise ValidationError(
                        message="CloudFormation cannot update a stack when a custom-named resource requires "
                        f"replacing. Rename {current.physical_resource_id} and update the stack again."
                    )
                obj = cls.create_from_cloudformation_json(
                    name, copy.deepcopy(resolved), self.account_id, self.region_name
                )
            else:
                obj = cls.update_from_cloudformation_json(
                    original_resource=current.obj,
                    new_resource_name=name,
                    cloudformation_json=copy.deepcopy(resolved),
                    account_id=self.account_id,
                    region_name=self.region_name,
                )
        except Exception as exc:
            reason = failure_reason(exc, resource_type)
            _event(
                self.stack, logical_id, resource_type, "UPDATE_FAILED", current.physical_resource_id, reason
            )
            raise ResourceFailed(logical_id, "update", reason) from exc
        physical = _physical_id(obj, name) if obj is not None else current.physical_resource_id
        if physical != current.physical_resource_id:
            _event(
                self.stack,
                logical_id,
                resource_type,
                "UPDATE_IN_PROGRESS",
                physical,
                "Requested update requires the creation of a new physical resource; hence creating one.",
            )
        record = self.record(
            logical_id, body, obj, physical, resolved.get("Properties") or {}, "UPDATE_COMPLETE"
        )
        _event(self.stack, logical_id, resource_type, "UPDATE_COMPLETE", physical)
        return record

    def delete(self, record: StackResource, policy: str) -> bool:
        """Delete (or, for a retained one, skip) with events; False if it failed."""
        stack, lid, kind, physical = (
            self.stack,
            record.logical_resource_id,
            record.cf_resource_type,
            record.physical_resource_id,
        )
        if policy in _RETAINED:
            _event(stack, lid, kind, "DELETE_SKIPPED", physical)
            record.resource_status, record.timestamp = "DELETE_SKIPPED", utcnow()
            return True
        _event(stack, lid, kind, "DELETE_IN_PROGRESS", physical)
        try:
            delete_resource(record, self.account_id, self.region_name)
        except Exception as exc:
            if not _gone(exc):
                reason = failure_reason(exc, kind)
                _event(stack, lid, kind, "DELETE_FAILED", physical, reason)
                record.resource_status, record.status_reason, record.timestamp = (
                    "DELETE_FAILED",
                    reason,
                    utcnow(),
                )
                return False
        _event(stack, lid, kind, "DELETE_COMPLETE", physical)
        record.resource_status, record.timestamp = "DELETE_COMPLETE", utcnow()
        return True


def delete_resource(record: StackResource, account_id: str, region_name: str) -> None:
    """Delete through the type's model, given the resolved properties (moto passes the raw ones)."""
    cls = resource_class_from_type(record.cf_resource_type)
    if cls is None or record.obj is None:
        return
    cloudformation_json = {"Type": record.cf_resource_type, "Properties": copy.deepcopy(record.properties)}
    if cls in cfn_resources.MODELS:
        cls.delete_from_cloudformation_json(
            record.physical_resource_id, cloudformation_json, account_id, region_name
        )
        return
    try:  # moto's own order: the object's delete, else the class's
        record.obj.delete(account_id, region_name)
    except (TypeError, AttributeError):
        if not _abstract(cls.delete_from_cloudformation_json):
            cls.delete_from_cloudformation_json(
                record.physical_resource_id, cloudformation_json, account_id, region_name
            )


# -- stack operations ---------------------------------------------------------------------------


def create_resources(stack: Stack) -> None:
    """Create the stack's resources (replaces Stack.create_resources); roll back on a failure."""
    run = _Run(stack, stack.resource_map)
    template_resources = stack.template_dict.get("Resources") or {}
    order = dependency_order(template_resources)
    stack.status = "CREATE_IN_PROGRESS"
    stack.description = stack.template_dict.get("Description")
    created = stack_resources(stack)
    try:
        for lid in order:
            if run.enabled(template_resources[lid]):
                created[lid] = run.create(lid, template_resources[lid])
    except ResourceFailed as failure:
        _rollback_create(run, failure)
        return
    _stack_status(stack, "CREATE_COMPLETE")


def _rollback_create(run: _Run, failure: ResourceFailed) -> None:
    stack = run.stack
    reason = (
        f"The following resource(s) failed to create: [{failure.logical_id}]. Rollback requested by user."
    )
    _stack_status(stack, "ROLLBACK_IN_PROGRESS", reason)
    failed_type = (stack.template_dict.get("Resources") or {})[failure.logical_id]["Type"]
    _event(stack, failure.logical_id, failed_type, "DELETE_COMPLETE")
    resources = stack_resources(stack)
    ok = True
    for record in reversed(list(resources.values())):
        policy = "Delete" if record.deletion_policy == "RetainExceptOnCreate" else record.deletion_policy
        if run.delete(record, policy) and record.resource_status == "DELETE_COMPLETE":
            del resources[record.logical_resource_id]
            stack.resource_map._parsed_resources.pop(record.logical_resource_id, None)
        ok = ok and record.resource_status != "DELETE_FAILED"
    stack.output_map = OutputMap(stack.resource_map, {}, stack.stack_id)  # a failed stack has no outputs
    _stack_status(stack, "ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED")
    stack.status_reason = reason


@dataclasses.dataclass
class _Previous:
    template: Any
    template_dict: dict[str, Any]
    parameters: dict[str, Any]
    resource_map: ResourceMap
    resources: dict[str, StackResource]


def update_stack(
    stack: Stack, template: str, parameters: dict[str, Any] | None, *, role_arn: str | None = None
) -> None:
    """Update the stack to template/parameters (replaces Stack.update); roll back on a failure."""
    before = _Previous(
        stack.template,
        stack.template_dict,
        dict(stack.parameters or {}),
        stack.resource_map,
        dict(stack_resources(stack)),
    )
    new_template = parse_template(template)
    new_map = ResourceMap(
        stack.stack_id,
        stack.name,
        dict(parameters or {}),
        stack.tags,
        region_name=stack.region_name,
        account_id=stack.account_id,
        template=new_template,
        cross_stack_resources=stack.cross_stack_resources,
    )
    new_map.load()  # parameters, conditions, outputs: a ValidationError here changes nothing
    new_resources = new_template.get("Resources") or {}
    order = dependency_order(new_resources)
    stack.last_updated_time = utcnow()
    _stack_status(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    run = _Run(stack, new_map)
    kept: dict[str, StackResource] = {}
    done: list[tuple[str, StackResource | None, StackResource]] = []  # (action, before, after)
    try:
        for lid in order:
            body = new_resources[lid]
            current = before.resources.get(lid)
            if not run.enabled(body):
                continue  # if it existed, the cleanup phase removes it
            if current is None:
                kept[lid] = run.create(lid, body)
                done.append(("add", None, kept[lid]))
                continue
            if current.obj is not None:
                new_map._parsed_resources[lid] = current.obj
            try:
                _cls, resolved, name = run.resolve(lid, body)
            except Exception as exc:
                reason = failure_reason(exc, body["Type"])
                _event(stack, lid, body["Type"], "UPDATE_FAILED", current.physical_resource_id, reason)
                raise ResourceFailed(lid, "update", reason) from exc
            if (resolved.get("Properties") or {}) == current.properties:
                kept[lid] = dataclasses.replace(
                    current,
                    deletion_policy=body.get("DeletionPolicy", "Delete"),
                    update_replace_policy=body.get("UpdateReplacePolicy", "Delete"),
                )
                continue
            kept[lid] = run.update(lid, body, current, resolved, name)
            replaced = kept[lid].physical_resource_id != current.physical_resource_id
            done.append(("replace" if replaced else "modify", current, kept[lid]))
    except ResourceFailed as failure:
        _rollback_update(run, before, done, failure)
        return
    stack.template, stack.template_dict = template, new_template
    stack.parameters = dict(parameters or {})
    stack.resource_map = new_map
    stack.output_map = OutputMap(new_map, new_template, stack.stack_id)
    stack.description = new_template.get("Description")
    stack.role_arn = role_arn
    _set_resources(stack, kept)
    _stack_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    cleanup = _Run(stack, before.resource_map)
    for action, old, _new in reversed(done):
        if action == "replace" and old is not None:
            cleanup.delete(old, old.update_replace_policy)
    for lid in reversed(list(before.resources)):
        if lid not in kept:
            cleanup.delete(before.resources[lid], before.resources[lid].deletion_policy)
    _stack_status(stack, "UPDATE_COMPLETE")


def _rollback_update(
    run: _Run,
    before: _Previous,
    done: list[tuple[str, StackResource | None, StackResource]],
    failure: ResourceFailed,
) -> None:
    stack = run.stack
    reason = f"The following resource(s) failed to {failure.action}: [{failure.logical_id}]. "
    _stack_status(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    restore = run.__class__(stack, before.resource_map)
    steps = list(reversed(done))
    failed_before = before.resources.get(failure.logical_id)
    if failure.action == "update" and failed_before is not None:  # it may be half-updated
        steps.insert(0, ("modify", failed_before, failed_before))
    ok = True
    for action, old, new in steps:
        if old is None or action == "add":
            continue
        if action == "replace":  # the old resource was never touched: it is current again
            _event(
                stack,
                old.logical_resource_id,
                old.cf_resource_type,
                "UPDATE_COMPLETE",
                old.physical_resource_id,
            )
            continue
        body = {"Type": old.cf_resource_type, "Properties": old.properties}
        old_with_new_obj = dataclasses.replace(old, obj=new.obj)
        try:
            restored = restore.update(
                old.logical_resource_id, body, old_with_new_obj, body, old.physical_resource_id
            )
        except ResourceFailed:
            ok = False
            continue
        old.obj = restored.obj
        before.resource_map._parsed_resources[old.logical_resource_id] = restored.obj
    _stack_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    for action, _old, new in steps:  # newest first: dependents before what they depend on
        if action in ("add", "replace"):
            restore.delete(new, new.deletion_policy if action == "add" else "Delete")
    stack.resource_map = before.resource_map
    stack.output_map = OutputMap(before.resource_map, before.template_dict, stack.stack_id)
    _set_resources(stack, before.resources)
    _stack_status(stack, "UPDATE_ROLLBACK_COMPLETE" if ok else "UPDATE_ROLLBACK_FAILED")


def delete_stack(stack: Stack) -> None:
    """Delete the stack's resources in reverse order (replaces Stack.delete); Retain ones are kept."""
    _stack_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
    run = _Run(stack, stack.resource_map)
    resources = stack_resources(stack)
    failed = []
    for record in reversed(list(resources.values())):
        if record.resource_status == "DELETE_SKIPPED":
            continue  # retained by an earlier rollback: it no longer belongs to the stack
        if not run.delete(record, record.deletion_policy):
            failed.append(record.logical_resource_id)
    if failed:
        _stack_status(
            stack, "DELETE_FAILED", f"The following resource(s) failed to delete: [{', '.join(failed)}]. "
        )
        return
    _stack_status(stack, "DELETE_COMPLETE")


def take_change_set(stack: Any, change_set: Any) -> Any:
    """The stack takes a CREATE or IMPORT change set's template, parameters and resource map (its
    resources not yet made), which it returns. A ValidationError leaves the stack under review."""
    resource_map = change_set_resources(stack, change_set)
    resource_map.load()
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    stack.template = change_set.template
    stack._parse_template()
    stack.parameters = dict(change_set.parameters or {})
    stack.resource_map = resource_map
    stack.output_map = stack._create_output_map()
    return resource_map


def execute_change_set(backend: Any, change_set_name: str, stack_name: str | None = None) -> None:
    """Run a change set (replaces CloudFormationBackend.execute_change_set)."""
    change_set = backend.describe_change_set(change_set_name)
    if change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current execution status "
            f"of [{change_set.execution_status}]"
        )
    stack = backend.stacks[change_set.stack_id]
    if change_set.change_set_type == "CREATE":
        take_change_set(stack, change_set)
        _stack_status(stack, "CREATE_IN_PROGRESS", "User Initiated")
        create_resources(stack)
        ok = stack.status == "CREATE_COMPLETE"
    else:
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        try:
            update_stack(stack, change_set.template, change_set.parameters, role_arn=change_set.role_arn)
        except CloudFormationError:  # raised before the stack changed
            change_set.execution_status = "AVAILABLE"
            raise
        ok = stack.status == "UPDATE_COMPLETE"
        if ok and change_set.tags:  # as AWS: the change set's tags become the stack's (moto kept the old)
            stack.tags = dict(change_set.tags)
    change_set.execution_status = "EXECUTE_COMPLETE" if ok else "EXECUTE_FAILED"


def changed_parameters(stack: Stack, template: dict[str, Any], parameters: dict[str, Any]) -> set[str]:
    """Parameters whose value (given, or the template default) differs from the stack's."""
    old = {k: plain(v) for k, v in (stack.resource_map.resolved_parameters or {}).items()}
    declared = template.get("Parameters") or {}
    new = {k: plain(parameters.get(k, (d or {}).get("Default"))) for k, d in declared.items()}
    return {k for k in set(old) | set(new) if old.get(k) != new.get(k)}


def change_set_resources(stack: Any, change_set: Any) -> ResourceMap:
    """moto's ResourceMap for a change set's template and parameters on its stack (not loaded yet)."""
    return ResourceMap(
        stack.stack_id,
        stack.name,
        dict(change_set.parameters or {}),
        stack.tags,
        region_name=stack.region_name,
        account_id=stack.account_id,
        template=parse_template(change_set.template),
        cross_stack_resources=stack.cross_stack_resources,
    )
