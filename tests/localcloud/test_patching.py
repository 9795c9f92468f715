"""Tripwires on the local cloud's moto patches: each target is checked at install, a changed one fails it."""

import ast
import contextlib
import inspect
import io
import json
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.awslambda.models import LambdaFunction
from moto.cloudformation.models import ChangeSet, CloudFormationBackend
from moto.cloudformation.parsing import get_model_map
from moto.core.common_models import CloudFormationModel
from moto.logs.models import LogsBackend
from moto.logs.utils import EventMessageFilter

from localcloud import (
    cfn_resources,
    cloudformation,
    journal,
    lambda_runtime,
    log_filter,
    metrics,
    moto_lambda,
    patching,
    persistence,
)
from operations import template

ROOT = Path(__file__).resolve().parents[2]
LOCALCLOUD = ROOT / "localcloud"
REGION = "us-east-1"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[lambda_runtime.Runtime]:
    local = lambda_runtime.Runtime(tmp_path, lambda *args: None, endpoint_url="http://127.0.0.1:9")
    try:
        yield local
    finally:
        local.shutdown()


@pytest.fixture
def everything(runtime: lambda_runtime.Runtime) -> Iterator[None]:
    """Every patch set of the local cloud installed, as the server installs them (then undone)."""
    installed = []
    for module, install in (
        (cloudformation, cloudformation.install),
        (metrics, metrics.install),
        (log_filter, log_filter.install),
        (moto_lambda, lambda: moto_lambda.install(runtime)),
    ):
        if not module._patches.active:  # another fixture's install is left as it is
            install()
            installed.append(module)
    try:
        yield
    finally:
        for module in reversed(installed):
            module.uninstall()


def targets() -> dict[str, patching.Patch]:
    return {patch.target: patch for group in patching.Patches.registry for patch in group.installed}


def test_every_patch_set_installs_and_each_target_has_the_expected_signature(everything) -> None:
    found = targets()
    for target in (
        "moto.awslambda.models.LambdaFunction.invoke",
        "moto.logs.models.LogsBackend.filter_log_events",
        "moto.cloudformation.parsing.get_model_list",
        "moto.cloudformation.models.Stack.parameter_list",
        "moto.cloudwatch.models.CloudWatchBackend.get_metric_data",
        "localcloud.moto_lambda.write_log",
    ):
        assert target in found, f"{target} is not patched through patching.Patches"
    for target, patch in found.items():
        assert inspect.getattr_static(patch.owner, patch.name) is patch.value, f"{target} is not in place"
        assert patching.shape(patch.replaced) == patch.expect, target
        if patch.expect == patching.PROPERTY:
            assert isinstance(patch.value, property), target
            continue
        # The replacement takes whatever call the target took: by position and by name.
        parameters = inspect.signature(patch.replaced).parameters.values()
        named = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        replacement = inspect.signature(patch.value)
        replacement.bind(*named)
        if named:
            replacement.bind(named[0], **{name: name for name in named[1:]})


def test_no_module_of_the_local_cloud_patches_moto_around_patches() -> None:
    """An attribute of something imported from moto is assigned (or setattr'd) only in patching.py."""
    offences = []
    for path in sorted(LOCALCLOUD.glob("*.py")):
        if path.name == "patching.py":
            continue
        tree = ast.parse(path.read_text())
        from_moto: set[str] = set()  # the names a module binds to moto's modules, classes and functions
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("moto"):
                from_moto |= {alias.asname or alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                from_moto |= {
                    (a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("moto")
                }
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("setattr", "delattr"):
                offences.append(f"{path.name}:{node.lineno} {ast.unparse(node)}")
            assigned = node.targets if isinstance(node, ast.Assign) else []
            if isinstance(node, ast.AugAssign | ast.AnnAssign):
                assigned = [node.target]
            for target in assigned:
                while isinstance(target, ast.Attribute):
                    target = target.value
                    if isinstance(target, ast.Name) and target.id in from_moto:
                        offences.append(f"{path.name}:{node.lineno} {ast.unparse(node)[:80]}")
    assert offences == [], "\n".join(offences)


# --- a target that changed makes install fail loudly ----------------------------------------------


class Backend:
    def describe(self, name: str, *, verbose: bool = False) -> str:
        return name


def test_a_changed_signature_is_refused_with_the_target_moto_version_and_expectation() -> None:
    patches = patching.Patches("test")
    original = Backend.__dict__["describe"]
    with pytest.raises(patching.PatchTargetChanged) as caught:
        patches.set(Backend, "describe", lambda self, stack_name: stack_name, expect="self, stack_name")
    message = str(caught.value)
    assert f"{__name__}.Backend.describe" in message
    assert f"moto {patching.moto_version()}" in message
    assert "expected (self, stack_name), found (self, name, *, verbose)" in message
    assert Backend.__dict__["describe"] is original and not patches.active


def test_a_renamed_target_is_refused_rather_than_created() -> None:
    patches = patching.Patches("test")
    with pytest.raises(patching.PatchTargetChanged, match=r"Backend\.describe_stack .*no such attribute"):
        patches.set(Backend, "describe_stack", lambda self, name: name, expect="self, name")
    assert not hasattr(Backend, "describe_stack")


def test_the_expected_signature_is_installed_and_undone() -> None:
    patches = patching.Patches("test")
    patches.set(Backend, "describe", lambda self, name, **_: name.upper(), expect="self, name, *, verbose")
    assert Backend().describe("x") == "X"
    patches.undo()
    assert Backend().describe("x") == "x"


def test_an_instance_attribute_the_patch_reads_must_still_be_assigned_by_moto() -> None:
    class ResourceMap:
        def __init__(self) -> None:
            self.no_echo_keys: list[str] = []  # as if moto renamed no_echo_parameter_keys

    patching.require_instance_attribute(ResourceMap, "no_echo_keys")
    with pytest.raises(patching.PatchTargetChanged, match=r"no_echo_parameter_keys.*no such assignment"):
        patching.require_instance_attribute(ResourceMap, "no_echo_parameter_keys")


def test_an_attribute_assigned_from_an_argument_is_found_on_every_python() -> None:
    class Rule:  # as moto's: on Python 3.13 `self.state = state` compiles to one LOAD_FAST_LOAD_FAST
        def __init__(self, name: str, state: str) -> None:
            self.name = name
            self.state = state

    class Later:
        def __init__(self, name: str) -> None:
            def set_later() -> None:
                self.cell = name  # a closure: LOAD_DEREF

            self.setter = set_later

    for cls, attribute in ((Rule, "name"), (Rule, "state"), (Later, "cell"), (Later, "setter")):
        patching.require_instance_attribute(cls, attribute)
    with pytest.raises(patching.PatchTargetChanged, match="no such assignment"):
        patching.require_instance_attribute(Rule, "event_pattern")


@contextlib.contextmanager
def _uninstalled(module: Any, monkeypatch: pytest.MonkeyPatch, *install_args: Any) -> Iterator[None]:
    """module's patches undone for the block; then moto's own again (monkeypatch undone) and module
    installed again if it was."""
    was_active = module._patches.active
    module.uninstall()
    try:
        yield
    finally:
        monkeypatch.undo()
        if was_active:
            module.install(*install_args)


def test_a_changed_moto_method_makes_log_filter_install_fail_and_patch_nothing(monkeypatch) -> None:
    with _uninstalled(log_filter, monkeypatch):
        moto_init = EventMessageFilter.__dict__["__init__"]

        def filter_log_events(
            self, log_group_name, log_stream_names, start_time, end_time, limit, token, pattern
        ):
            """moto with filter_pattern renamed and interleaved gone."""

        monkeypatch.setattr(LogsBackend, "filter_log_events", filter_log_events)
        with pytest.raises(patching.PatchTargetChanged) as caught:
            log_filter.install()
        assert "moto.logs.models.LogsBackend.filter_log_events" in str(caught.value)
        assert "filter_pattern, interleaved)" in str(caught.value)
        assert EventMessageFilter.__dict__["__init__"] is moto_init, "all or nothing"
        assert not log_filter._patches.active


def test_a_changed_moto_method_makes_cloudformation_install_fail_and_patch_nothing(monkeypatch) -> None:
    with _uninstalled(cloudformation, monkeypatch):
        moto_create_stack = CloudFormationBackend.__dict__["create_stack"]
        monkeypatch.setattr(ChangeSet, "diff", lambda self, include_nested=False: [])
        changed = r"ChangeSet\.diff.*found \(self, include_nested\)"
        with pytest.raises(patching.PatchTargetChanged, match=changed):
            cloudformation.install()
        assert CloudFormationBackend.__dict__["create_stack"] is moto_create_stack, "all or nothing"
        assert not cloudformation._patches.active
        model = get_model_map().get(cfn_resources.MODELS[0].cloudformation_type())
        assert model is not cfn_resources.MODELS[0], "the local models are unregistered again"


def test_a_changed_model_protocol_makes_cloudformation_install_fail(monkeypatch) -> None:
    def create(cls, logical_id, cloudformation_json, account_id, region_name, **kwargs):
        """moto with resource_name renamed: the local models would get the wrong arguments."""

    with _uninstalled(cloudformation, monkeypatch):
        monkeypatch.setattr(CloudFormationModel, "create_from_cloudformation_json", classmethod(create))
        with pytest.raises(patching.PatchTargetChanged, match=r"CloudFormationModel\.create_from_cloudf"):
            cloudformation.install()
        assert not cloudformation._patches.active


def test_a_changed_lambda_invoke_makes_moto_lambda_install_fail(monkeypatch, runtime) -> None:
    with _uninstalled(moto_lambda, monkeypatch, runtime):
        monkeypatch.setattr(LambdaFunction, "invoke", lambda self, body, headers: b"")
        with pytest.raises(patching.PatchTargetChanged, match=r"LambdaFunction\.invoke"):
            moto_lambda.install(runtime)
        assert not moto_lambda._patches.active


# --- NoEcho -----------------------------------------------------------------------------------------


@pytest.fixture
def aws(everything, moto: None) -> None:
    """Every patch installed, then plain moto (the root tests/conftest.py's)."""


def test_describe_stacks_shows_stars_for_a_noecho_parameter(aws) -> None:
    # The resizer's own template has no NoEcho parameter any more (its signing key lives in SSM):
    # a template with one, and the function's zip, as a user's own template may have.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("resizer_function/handler.py", "def handler(event, context):\n    return {}\n")
    boto3.client("s3").create_bucket(Bucket="artifacts")
    boto3.client("s3").put_object(Bucket="artifacts", Key="fn.zip", Body=buffer.getvalue())
    body = {
        "Parameters": {
            "ArtifactKey": {"Type": "String"},
            "ApiToken": {"Type": "String", "NoEcho": True},
        },
        "Resources": {"Group": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/noecho"}}},
    }
    cfn = boto3.client("cloudformation")
    secret = "a-token-nobody-may-see"
    cfn.create_stack(
        StackName="resizer",
        TemplateBody=json.dumps(body),
        Parameters=[
            {"ParameterKey": "ArtifactKey", "ParameterValue": "fn.zip"},
            {"ParameterKey": "ApiToken", "ParameterValue": secret},
        ],
    )

    stack = cfn.describe_stacks(StackName="resizer")["Stacks"][0]
    shown = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert shown["ApiToken"] == "****"
    assert shown["ArtifactKey"] == "fn.zip", "only NoEcho parameters are hidden"
    assert secret not in str(cfn.describe_stacks())


# --- the local models: moto sees them only while installed ---------------------------------------


def create_and_delete_the_stack(cfn: Any, s3: Any) -> str:
    """Create the stack of cloudformation/resizer.yaml, delete it; the status DescribeStacks says then."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("resizer_function/handler.py", "def handler(event, context):\n    return {}\n")
    if "artifacts" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="fn.zip", Body=buffer.getvalue())
    stack_id = cfn.create_stack(
        StackName="resizer",
        TemplateBody=template.read(),
        Parameters=[
            {"ParameterKey": "ArtifactBucket", "ParameterValue": "artifacts"},
            {"ParameterKey": "ArtifactKey", "ParameterValue": "fn.zip"},
            {"ParameterKey": "Delivery", "ParameterValue": "website"},  # plain moto has no CloudFront type
        ],
        Capabilities=["CAPABILITY_IAM"],
    )["StackId"]
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    cfn.delete_stack(StackName=stack_id)
    return cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]


def local_models_in_use() -> list[str]:
    model_map = get_model_map()
    return [m.__name__ for m in cfn_resources.MODELS if model_map.get(m.cloudformation_type()) is m]


def test_install_uninstall_reinstall_then_a_stack_deletes(aws) -> None:
    """Regression: once an install was undone (or none was made), plain moto met the local models
    (``'ApiStage' object has no attribute 'delete'``, a Permission deleted with unresolved props)."""
    was_installed = cloudformation._patches.active
    cfn, s3 = boto3.client("cloudformation"), boto3.client("s3")
    try:
        cloudformation.install()
        assert local_models_in_use() == [m.__name__ for m in cfn_resources.MODELS]
        cloudformation.uninstall()
        assert local_models_in_use() == []
        assert create_and_delete_the_stack(cfn, s3) == "DELETE_COMPLETE", "plain moto, after an uninstall"
        cloudformation.install()
        assert create_and_delete_the_stack(cfn, s3) == "DELETE_COMPLETE", "the local cloud, reinstalled"
    finally:
        if not was_installed:
            cloudformation.uninstall()


PLAIN_MOTO = """
import boto3
from moto import mock_aws

import localcloud.cfn_resources  # defines the local models; nothing installs them
from tests.localcloud.test_patching import create_and_delete_the_stack, local_models_in_use

assert local_models_in_use() == [], local_models_in_use()
with mock_aws():
    print(create_and_delete_the_stack(boto3.client("cloudformation"), boto3.client("s3")))
"""


def test_importing_the_local_models_changes_no_plain_moto(tmp_path: Path) -> None:
    """In a fresh process (as when this module is collected before another test uses moto)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PLAIN_MOTO], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "DELETE_COMPLETE"


# --- the saved state --------------------------------------------------------------------------------


def test_a_state_saved_by_another_moto_is_refused_not_loaded(tmp_path) -> None:
    assert f"moto {patching.moto_version()}" in persistence.FORMAT
    older = {"format": "2 (moto 5.0.0)", "services": {"s3": {"unpicklable by this moto": True}}}
    state = tmp_path / persistence.STATE_DIR
    state.mkdir()
    journal.write_snapshot(state / "snapshot-1.bin", pickle.dumps([]) + pickle.dumps(older))
    with pytest.raises(persistence.StateUnreadable) as refused:
        persistence.Store(tmp_path).load()
    assert "2 (moto 5.0.0)" in str(refused.value) and persistence.FORMAT in str(refused.value)
    assert (state / "snapshot-1.bin").is_file(), "the saved state is kept, never replaced"
