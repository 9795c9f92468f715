"""Tripwires on the local cloud's moto patches: each target is checked at install, a changed one fails it."""

import ast
import inspect
import io
import pickle
import zipfile
from collections.abc import Iterator
from pathlib import Path

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

LOCALCLOUD = Path(__file__).resolve().parents[2] / "localcloud"
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


def test_a_changed_moto_method_makes_log_filter_install_fail_and_patch_nothing(monkeypatch) -> None:
    was_active = log_filter._patches.active
    log_filter.uninstall()
    moto_init = EventMessageFilter.__dict__["__init__"]

    def filter_log_events(
        self, log_group_name, log_stream_names, start_time, end_time, limit, token, pattern
    ):
        """moto with filter_pattern renamed and interleaved gone."""

    monkeypatch.setattr(LogsBackend, "filter_log_events", filter_log_events)
    try:
        with pytest.raises(patching.PatchTargetChanged) as caught:
            log_filter.install()
        assert "moto.logs.models.LogsBackend.filter_log_events" in str(caught.value)
        assert "filter_pattern, interleaved)" in str(caught.value)
        assert EventMessageFilter.__dict__["__init__"] is moto_init, "all or nothing"
        assert not log_filter._patches.active
    finally:
        monkeypatch.undo()
        if was_active:
            log_filter.install()


def test_a_changed_moto_method_makes_cloudformation_install_fail_and_patch_nothing(monkeypatch) -> None:
    was_installed = cloudformation._patches.active
    cloudformation.uninstall()
    moto_create_stack = CloudFormationBackend.__dict__["create_stack"]
    monkeypatch.setattr(ChangeSet, "diff", lambda self, include_nested=False: [])
    try:
        changed = r"ChangeSet\.diff.*found \(self, include_nested\)"
        with pytest.raises(patching.PatchTargetChanged, match=changed):
            cloudformation.install()
        assert CloudFormationBackend.__dict__["create_stack"] is moto_create_stack, "all or nothing"
        assert not cloudformation._patches.active
        model = get_model_map().get(cfn_resources.MODELS[0].cloudformation_type())
        assert model is not cfn_resources.MODELS[0], "the local models are unregistered again"
    finally:
        monkeypatch.undo()
        if was_installed:
            cloudformation.install()


def test_a_changed_model_protocol_makes_cloudformation_install_fail(monkeypatch) -> None:
    was_installed = cloudformation._patches.active
    cloudformation.uninstall()

    def create(cls, logical_id, cloudformation_json, account_id, region_name, **kwargs):
        """moto with resource_name renamed: the local models would get the wrong arguments."""

    monkeypatch.setattr(CloudFormationModel, "create_from_cloudformation_json", classmethod(create))
    try:
        with pytest.raises(patching.PatchTargetChanged, match=r"CloudFormationModel\.create_from_cloudf"):
            cloudformation.install()
        assert not cloudformation._patches.active
    finally:
        monkeypatch.undo()
        if was_installed:
            cloudformation.install()


def test_a_changed_lambda_invoke_makes_moto_lambda_install_fail(monkeypatch, runtime) -> None:
    was_active = moto_lambda._patches.active
    moto_lambda.uninstall()
    monkeypatch.setattr(LambdaFunction, "invoke", lambda self, body, headers: b"")
    try:
        with pytest.raises(patching.PatchTargetChanged, match=r"LambdaFunction\.invoke"):
            moto_lambda.install(runtime)
        assert not moto_lambda._patches.active
    finally:
        monkeypatch.undo()
        if was_active:
            moto_lambda.install(runtime)


# --- NoEcho -----------------------------------------------------------------------------------------


@pytest.fixture
def aws(everything, moto: None) -> None:
    """Every patch installed, then plain moto (the root tests/conftest.py's)."""


def test_describe_stacks_shows_stars_for_the_signing_key(aws) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("resizer_function/handler.py", "def handler(event, context):\n    return {}\n")
    boto3.client("s3").create_bucket(Bucket="artifacts")
    boto3.client("s3").put_object(Bucket="artifacts", Key="fn.zip", Body=buffer.getvalue())
    cfn = boto3.client("cloudformation")
    secret = "a-signing-key-nobody-may-see"
    cfn.create_stack(
        StackName="resizer",
        TemplateBody=template.read(),
        Parameters=[
            {"ParameterKey": "ArtifactBucket", "ParameterValue": "artifacts"},
            {"ParameterKey": "ArtifactKey", "ParameterValue": "fn.zip"},
            {"ParameterKey": "SigningKey", "ParameterValue": secret},
        ],
        Capabilities=["CAPABILITY_IAM"],
    )

    stack = cfn.describe_stacks(StackName="resizer")["Stacks"][0]
    shown = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert shown["SigningKey"] == "****"
    assert shown["ArtifactKey"] == "fn.zip", "only NoEcho parameters are hidden"
    assert secret not in str(cfn.describe_stacks())


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
