"""CloudFormation fidelity for moto: ``install()`` makes moto run the production template as AWS does.

After ``install(urls)``, in this process, moto's CloudFormation:

- creates, updates and deletes every resource type of cloudformation/resizer.yaml for real
  (localcloud.cfn_resources: the S3 website, public access block and ownership controls, the
  bucket policy, the API stage, the alarms...), so the service APIs show what AWS would;
- refuses, with a ValidationError at CreateChangeSet/CreateStack/UpdateStack, a template that
  uses a type moto cannot model, has a cfn-lint error or a parameter value outside its
  constraints, before anything is created;
- creates in dependency order with resource events, and on a failure rolls back as AWS does
  (CREATE_FAILED, ROLLBACK_COMPLETE; UPDATE_FAILED, UPDATE_ROLLBACK_COMPLETE) - localcloud.cfn_engine;
- with ``urls``, gives AWS-style website, execute-api and CloudFront URLs (the bucket's WebsiteURL
  attribute, the stack's outputs, URLs in a function's environment) as URLs on the local cloud,
  which any HTTP client can open.

``install`` is idempotent (a second call only changes the urls); ``uninstall`` puts moto back,
for tests that share the process with tests of plain moto.

The moto internals replaced or wrapped, each for the reason given where it is patched below:
``CloudFormationBackend.create_stack / create_change_set / update_stack`` (validation),
``CloudFormationBackend.execute_change_set`` and ``delete_stack``, ``Stack.create_resources /
update / delete`` (the engine), ``Stack.stack_resources``, ``Stack.outputs``,
``Stack.parameter_list``, ``ChangeSet.diff``, ``FakeBucket.get_cfn_attribute``,
``LogGroup.get_cfn_attribute``, ``CloudFormationResponse.list_stack_resources`` and
``StackResourceDTO.__init__``; plus the models of localcloud.cfn_resources, registered through
moto's ``lru_cache``d model lookups in moto.cloudformation.parsing (and the patch of moto's
DistributionConfig in localcloud.cfn_resources.cloudfront).
"""

import functools
import re
import threading
from dataclasses import dataclass
from typing import Any

from localcloud import cfn_novalue, patching

_WEBSITE = re.compile(
    r"^https?://(?P<bucket>.+?)\.s3-website[-.][a-z0-9-]+\.amazonaws\.com(?P<rest>(?:[/?#].*)?)$"
)
_EXECUTE_API = re.compile(
    r"^https?://(?P<api>[A-Za-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?P<rest>(?:[/?#].*)?)$"
)
_HTTPS_HOST = re.compile(r"^https?://(?P<host>[A-Za-z0-9.-]+)(?P<rest>(?:[/?#].*)?)$")
# A local URL stored by a run on another port (outputs, PUBLIC_URL): it follows the current port.
_LOCAL = re.compile(
    r"^http://(?:127\.0\.0\.1|localhost):\d+(?P<rest>/_aws/(?:s3-website|execute-api|cloudfront)/.*)$"
)


@dataclass(frozen=True)
class LocalUrls:
    """Where the local cloud serves S3 websites and API Gateway stages, by the AWS URL they stand for."""

    base: str  # e.g. "http://127.0.0.1:4566"

    def website(self, bucket: str) -> str:
        return f"{self.base.rstrip('/')}/_aws/s3-website/{bucket}"

    def execute_api(self, api_id: str) -> str:
        return f"{self.base.rstrip('/')}/_aws/execute-api/{api_id}"

    def cloudfront(self, distribution_id: str) -> str:
        return f"{self.base.rstrip('/')}/_aws/cloudfront/{distribution_id}"

    def rewrite(self, url: str) -> str:
        """The local URL for an AWS website, execute-api or CloudFront URL (its *.cloudfront.net name
        or one of its aliases); any other URL unchanged."""
        if found := _WEBSITE.match(url):
            return self.website(found["bucket"]) + found["rest"]
        if found := _EXECUTE_API.match(url):
            return self.execute_api(found["api"]) + found["rest"]
        if found := _LOCAL.match(url):
            return self.base.rstrip("/") + found["rest"]
        if (found := _HTTPS_HOST.match(url)) and (distribution := _distribution_for_host(found["host"])):
            return self.cloudfront(distribution) + found["rest"]
        return url


def _distribution_for_host(host: str) -> str | None:
    """The id of the distribution whose domain name or alias is host, if there is one."""
    from moto.cloudfront.models import cloudfront_backends

    host = host.lower()
    for partitions in list(cloudfront_backends.values()):
        for cloudfront in list(partitions.values()):
            for distribution in list(cloudfront.distributions.values()):
                aliases = distribution.distribution_config.Aliases.get("Items") or []
                if host == distribution.domain_name or host in [str(a).lower() for a in aliases]:
                    return distribution.distribution_id
    return None


def rewrite(url: str) -> str:
    """The local URL for an AWS URL when install() was given urls; otherwise url unchanged."""
    urls = _urls
    return urls.rewrite(url) if urls is not None else url


_lock = threading.Lock()
_urls: LocalUrls | None = None
_patches = patching.Patches("cloudformation")  # what uninstall() puts back; empty when not patched
_registered = False  # whether moto's model lookups include localcloud.cfn_resources.MODELS


def install(urls: LocalUrls | None = None) -> None:
    """Patch moto's CloudFormation in this process (idempotent; the last urls given are used)."""
    global _urls
    with _lock:
        _urls = urls
        if _registered:
            return
        try:
            from localcloud.cfn_resources import cloudfront

            _register_models()
            _patch_backend()
            _patch_stack()
            _patch_attributes()
            _patch_responses()
            _patch_conditions()
            cfn_novalue.install(_patches)  # AWS::NoValue items leave their lists
            cloudfront.install_patches(_patches)  # a cache behaviour may target an origin group
        except BaseException:
            _undo()  # all or nothing: a target that changed leaves moto as it was
            raise


def uninstall() -> None:
    """Give moto back its own behaviour (for tests that need plain moto in the same process)."""
    with _lock:
        _undo()


def _undo() -> None:
    global _registered, _urls
    _patches.undo()
    _urls = None
    _registered = False
    _hide_models()


def _hide_models() -> None:
    from localcloud.cfn_resources import adapter

    adapter.show_models(False)


def _register_models() -> None:
    # The models are left out of moto's lookups until shown (localcloud.cfn_resources.adapter):
    # showing them here, hiding them in uninstall(), so plain moto never meets them.
    global _registered
    from localcloud import cfn_resources
    from localcloud.cfn_resources import adapter

    ours = cfn_resources.MODELS
    # The models implement moto's model protocol: moto calls these by these parameter names.
    adapter.check_protocol()
    _registered = True
    adapter.show_models(True)
    from moto.cloudformation import parsing

    model_map = parsing.get_model_map()
    shadowed = [m.__name__ for m in ours if model_map.get(m.cloudformation_type()) is not m]
    if shadowed:
        raise RuntimeError(f"localcloud: moto's model map does not use {', '.join(shadowed)}")


def _patch_backend() -> None:
    from moto.cloudformation.exceptions import AlreadyExistsException, ValidationError
    from moto.cloudformation.models import CloudFormationBackend

    from localcloud import cfn_engine, cfn_import, cfn_validation

    backend_create_stack = CloudFormationBackend.create_stack
    backend_create_change_set = CloudFormationBackend.create_change_set
    backend_update_stack = CloudFormationBackend.update_stack
    backend_delete_stack = CloudFormationBackend.delete_stack

    # Validation comes first, so a refused template creates nothing (moto validates nothing and
    # creates a REVIEW_IN_PROGRESS stack for every CREATE change set).
    @functools.wraps(backend_create_stack)
    def create_stack(
        self: Any, name: str, template: str, parameters: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        cfn_validation.validate(template, parameters, self.region_name)
        return backend_create_stack(self, name, template, parameters, *args, **kwargs)

    # Also as AWS: a CREATE change set for a live stack is refused, one for a stack still under
    # review joins that stack (moto makes a second stack of the same name), and an UPDATE of a
    # stack under review or in ROLLBACK_COMPLETE is refused.
    @functools.wraps(backend_create_change_set)
    def create_change_set(
        self: Any,
        stack_name: str,
        change_set_name: str,
        template: str,
        parameters: dict[str, Any],
        description: str,
        change_set_type: str,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[str, str]:
        existing = next((s for s in self.stacks.values() if s.name == stack_name), None)
        if change_set_type == "CREATE" and existing is not None and existing.status != "REVIEW_IN_PROGRESS":
            raise AlreadyExistsException(
                f"Stack [{stack_name}] already exists and cannot be created again with the changeSet "
                f"[{change_set_name}]."
            )
        if change_set_type == "UPDATE" and existing is not None and existing.status in _NOT_UPDATABLE:
            raise ValidationError(
                message=f"Stack:{existing.stack_id} is in {existing.status} state and can not be updated."
            )
        previous = existing.template_dict if change_set_type == "UPDATE" and existing is not None else None
        parsed = cfn_validation.validate(template, parameters, self.region_name, previous=previous)
        if change_set_type == "IMPORT":
            if existing is not None and existing.status != "REVIEW_IN_PROGRESS":
                raise ValidationError(message="the local cloud imports resources into a new stack only")
            cfn_import.check(parsed, self.account_id)
        change_set_id, stack_id = backend_create_change_set(
            self,
            stack_name,
            change_set_name,
            template,
            parameters,
            description,
            change_set_type,
            *args,
            **kwargs,
        )
        change_set = self.change_sets[change_set_id]
        if (
            change_set_type == "UPDATE"
            and existing is not None
            and change_set.status != "FAILED"
            and existing.has_template(template)
            and not cfn_engine.changed_parameters(existing, existing.template_dict, parameters)
        ):  # AWS compares the values (moto compared UsePreviousValue's typed values with strings)
            change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
            change_set.status_reason = (
                "The submitted information didn't contain changes. Submit different information to "
                "create a change set."
            )
        if change_set_type == "CREATE" and existing is not None:
            self.stacks.pop(stack_id, None)
            change_set = self.change_sets[change_set_id]
            change_set.stack, change_set.stack_id = existing, existing.stack_id
            stack_id = existing.stack_id
        return change_set_id, stack_id

    @functools.wraps(backend_update_stack)
    def update_stack(
        self: Any, name: str, template: str, role_arn: str | None, parameters: list[dict[str, Any]], tags: Any
    ) -> Any:
        stack = self.get_stack(name)
        resolved = self._resolve_update_parameters(instance=stack, incoming_params=parameters)
        cfn_validation.validate(template, resolved, self.region_name, previous=stack.template_dict)
        return backend_update_stack(
            self, name=name, template=template, role_arn=role_arn, parameters=parameters, tags=tags
        )

    # moto applies a change set with ResourceMap.update (no order, no events, no rollback) and
    # never gives the stack the change set's template (so a created stack has no outputs).
    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        if change_set.change_set_type == "IMPORT" and change_set.execution_status == "AVAILABLE":
            cfn_import.execute(self, change_set)
        else:
            cfn_engine.execute_change_set(self, change_set_name, stack_name)

    # A stack whose delete failed stays listed (DELETE_FAILED), as on AWS; moto drops it.
    @functools.wraps(backend_delete_stack)
    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        backend_delete_stack(self, name_or_stack_id)
        for stack_id, stack in list(self.deleted_stacks.items()):
            if stack.status == "DELETE_FAILED":
                self.stacks[stack_id] = self.deleted_stacks.pop(stack_id)

    _patches.set(
        CloudFormationBackend,
        "create_stack",
        create_stack,
        expect="self, name, template, parameters, notification_arns, tags, role_arn, "
        "enable_termination_protection, timeout_in_mins, stack_policy_body",
    )
    _patches.set(
        CloudFormationBackend,
        "create_change_set",
        create_change_set,
        expect="self, stack_name, change_set_name, template, parameters, description, change_set_type, "
        "notification_arns, tags, role_arn",
    )
    _patches.set(
        CloudFormationBackend,
        "update_stack",
        update_stack,
        expect="self, name, template, role_arn, parameters, tags",
    )
    _patches.set(
        CloudFormationBackend,
        "execute_change_set",
        execute_change_set,
        expect="self, change_set_name, stack_name",
    )
    _patches.set(CloudFormationBackend, "delete_stack", delete_stack, expect="self, name_or_stack_id")


_NOT_UPDATABLE = {"REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}


def _patch_stack() -> None:
    from moto.cloudformation.models import Change, ChangeSet, Stack
    from moto.cloudformation.parsing import ResourceMap

    from localcloud import cfn_dependencies, cfn_engine

    # The engine: dependency order, events, failure and rollback (see localcloud.cfn_engine).
    def create_resources(self: Stack) -> None:
        cfn_engine.create_resources(self)

    def update(
        self: Stack,
        template: str,
        role_arn: str | None = None,
        parameters: dict[str, Any] | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        cfn_engine.update_stack(self, template, parameters, role_arn=role_arn)
        if tags is not None:
            self.tags = tags

    def delete(self: Stack) -> None:
        cfn_engine.delete_stack(self)

    # moto lists resource_map.values(): reading it creates any resource not created yet (the
    # map is lazy), e.g. those a failed stack rolled back. The engine's records never do.
    def stack_resources(self: Stack) -> list[Any]:
        return list(cfn_engine.stack_resources(self).values())

    stack_outputs = Stack.outputs.fget

    def outputs(self: Stack) -> list[dict[str, Any]] | None:
        found = stack_outputs(self)
        urls = _urls
        if found and urls is not None:
            for output in found:
                if isinstance(output.get("OutputValue"), str):
                    output["OutputValue"] = urls.rewrite(output["OutputValue"])
        return found

    # moto compares each parameter's value (not its key) with the NoEcho keys, so NoEcho values
    # were shown; AWS shows "****". Read without a default: if moto renames the attribute, install
    # fails (the check below) rather than DescribeStacks showing the signing key.
    for attribute in ("no_echo_parameter_keys", "resolved_parameters"):
        patching.require_instance_attribute(ResourceMap, attribute)

    def parameter_list(self: Stack) -> list[dict[str, Any]]:
        hidden = set(self.resource_map.no_echo_parameter_keys)
        return [
            {"ParameterKey": k, "ParameterValue": "****" if k in hidden else v}
            for k, v in self.resource_map.resolved_parameters.items()
        ]

    # A change set lists as Modify the resources that use a changed parameter, as AWS does;
    # moto's diff compares only the templates (so a new ArtifactKey showed no change).
    change_set_diff = ChangeSet.diff

    def diff(self: ChangeSet) -> list[Change]:
        changes = change_set_diff(self)
        if self.change_set_type == "IMPORT":  # as AWS lists them
            for change in changes:
                change.action = "Import"
        if self.change_set_type != "UPDATE":
            return changes
        listed = {c.logical_resource_id for c in changes}
        changed = cfn_engine.changed_parameters(self.stack, self.template_dict, self.parameters or {})
        old = self.stack.template_dict.get("Resources") or {}
        for lid, body in (self.template_dict.get("Resources") or {}).items():
            uses_changed = cfn_dependencies.references(body.get("Properties"), changed)
            if lid in old and lid not in listed and uses_changed:
                changes.append(Change(action="Modify", logical_resource_id=lid, resource_type=body["Type"]))
        return changes

    _patches.set(Stack, "create_resources", create_resources, expect="self")
    _patches.set(Stack, "update", update, expect="self, template, role_arn, parameters, tags")
    _patches.set(Stack, "delete", delete, expect="self")
    _patches.set(Stack, "stack_resources", property(stack_resources), expect=patching.PROPERTY)
    _patches.set(Stack, "outputs", property(outputs), expect=patching.PROPERTY)
    _patches.set(Stack, "parameter_list", property(parameter_list), expect=patching.PROPERTY)
    _patches.set(ChangeSet, "diff", diff, expect="self")


def _patch_attributes() -> None:
    from moto.logs.models import LogGroup
    from moto.s3.models import FakeBucket

    from localcloud.cfn_resources import logs

    bucket_attribute = FakeBucket.get_cfn_attribute

    # !GetAtt Bucket.WebsiteURL is the local website URL when install() was given urls.
    def get_cfn_attribute(self: FakeBucket, attribute_name: str) -> Any:
        value = bucket_attribute(self, attribute_name)
        urls = _urls
        return urls.rewrite(value) if attribute_name == "WebsiteURL" and urls is not None else value

    _patches.set(FakeBucket, "get_cfn_attribute", get_cfn_attribute, expect="self, attribute_name")
    _patches.set(
        LogGroup,
        "get_cfn_attribute",
        logs.log_group_attribute(LogGroup.get_cfn_attribute),
        expect="self, attribute_name",
    )


def _patch_conditions() -> None:
    """Fn::Equals compares strings, as CloudFormation does: moto compared a Number parameter's
    int (-1) with the string "-1" and took them for different (ReservedConcurrency -1 became a
    reserved concurrency of -1)."""
    from moto.cloudformation import parsing

    original = parsing.parse_condition

    def text(value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)

    def parse_condition(condition: Any, resources_map: Any, condition_map: dict[str, Any]) -> bool:
        if isinstance(condition, dict) and list(condition) == ["Fn::Equals"]:
            left, right = (
                condition_map[v["Condition"]]
                if isinstance(v, dict) and "Condition" in v
                else parsing.clean_json(v, resources_map)
                for v in condition["Fn::Equals"]
            )
            return text(left) == text(right)
        return original(condition, resources_map, condition_map)

    _patches.set(
        parsing, "parse_condition", parse_condition, expect="condition, resources_map, condition_map"
    )


def _patch_responses() -> None:
    from moto.cloudformation import responses
    from moto.core.responses import ActionResult

    # moto reports every resource as CREATE_COMPLETE (ListStackResources) or with the stack's
    # status (DescribeStackResources); these report each resource's own status and time.
    def list_stack_resources(self: Any) -> ActionResult:
        stack, resources = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
        return ActionResult(
            {
                "StackResourceSummaries": [
                    {
                        "LogicalResourceId": r.logical_resource_id,
                        "PhysicalResourceId": r.physical_resource_id,
                        "ResourceType": r.cf_resource_type,
                        "LastUpdatedTimestamp": getattr(r, "timestamp", stack.creation_time),
                        "ResourceStatus": getattr(r, "resource_status", "CREATE_COMPLETE"),
                        **(
                            {"ResourceStatusReason": r.status_reason}
                            if getattr(r, "status_reason", "")
                            else {}
                        ),
                    }
                    for r in resources
                ]
            }
        )

    dto_init = responses.StackResourceDTO.__init__

    def dto(self: Any, stack: Any, resource: Any) -> None:
        dto_init(self, stack, resource)
        self.resource_status = getattr(resource, "resource_status", self.resource_status)
        self.timestamp = getattr(resource, "timestamp", self.timestamp)

    _patches.set(
        responses.CloudFormationResponse, "list_stack_resources", list_stack_resources, expect="self"
    )
    _patches.set(responses.StackResourceDTO, "__init__", dto, expect="self, stack, resource")
