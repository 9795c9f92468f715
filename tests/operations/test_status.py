"""operations.status against moto: the stack's state, outputs, parameters, resources and function."""

import base64

import pytest

from operations.errors import StackNotFound
from operations.status import FunctionInfo, Resource, function_info, status
from tests.operations.conftest import MOTO_WARNINGS, STACK, Deployer

pytestmark = MOTO_WARNINGS


def test_status_after_a_first_deploy(deployer: Deployer) -> None:
    planned, _ = deployer.deploy()
    assert planned.artifact is not None

    found = status(deployer.clients, STACK)

    assert found.stack == STACK
    assert found.status == "CREATE_COMPLETE"
    assert found.reason == ""
    assert found.updated is not None
    assert found.parameters["ArtifactKey"] == planned.artifact.key
    assert found.parameters["MemorySize"] == "1024"
    assert found.outputs["FunctionName"] == "resizer-resize"
    assert found.outputs["LogGroupName"] == "/aws/lambda/resizer-resize"
    bucket = found.outputs["BucketName"]
    assert bucket.startswith("resizer-imagesbucket-")

    by_id = {r.logical_id: r for r in found.resources}
    assert by_id["Function"] == Resource(
        "Function", "AWS::Lambda::Function", "CREATE_COMPLETE", "resizer-resize"
    )
    assert by_id["ImagesBucket"].resource_type == "AWS::S3::Bucket"
    assert by_id["ImagesBucket"].physical_id == bucket
    assert {"FunctionRole", "FunctionLogGroup", "RestApi", "ApiInvokePermission"} <= set(by_id)

    function = found.function
    assert isinstance(function, FunctionInfo)
    assert function.name == "resizer-resize"
    assert function.runtime == "python3.12"
    # moto ignores the template's Architectures (arm64); test_function_info checks this mapping.
    assert function.architecture == deployer.function()["Architectures"][0]
    assert function.memory_mb == 1024
    assert function.timeout_s == 28
    expected_sha = base64.b64encode(bytes.fromhex(planned.artifact.artifact.sha256)).decode()
    assert function.code_sha256 == expected_sha
    assert function.code_size == planned.artifact.artifact.size
    assert function.last_modified


def test_status_after_an_update(deployer: Deployer) -> None:
    deployer.deploy()
    created = status(deployer.clients, STACK)
    deployer.deploy(MemorySize="2048", Timeout="10")

    found = status(deployer.clients, STACK)

    assert found.status == "UPDATE_COMPLETE"
    assert found.parameters["MemorySize"] == "2048"
    assert found.updated is not None and created.updated is not None and found.updated >= created.updated
    assert found.function is not None
    assert found.function.memory_mb == 2048
    assert found.function.timeout_s == 10


def test_a_function_deleted_behind_the_stacks_back_is_reported_as_missing(deployer: Deployer) -> None:
    deployer.deploy()
    deployer.clients.client("lambda").delete_function(FunctionName="resizer-resize")

    found = status(deployer.clients, STACK)

    assert found.status == "CREATE_COMPLETE"
    assert found.outputs["FunctionName"] == "resizer-resize"
    assert found.function is None


def test_function_info(deployer: Deployer) -> None:
    deployer.deploy()
    lam = deployer.clients.client("lambda")
    role = deployer.function()["Role"]
    lam.create_function(
        FunctionName="by-hand",
        Runtime="python3.12",
        Role=role,
        Handler="resizer_function.handler.handler",
        Code={"ZipFile": deployer.build("arm64").path.read_bytes()},
        Architectures=["arm64"],
        MemorySize=1536,
        Timeout=12,
    )
    lam.put_function_concurrency(FunctionName="by-hand", ReservedConcurrentExecutions=5)

    info = function_info(deployer.clients, "by-hand")

    assert info is not None
    assert (info.name, info.runtime, info.architecture) == ("by-hand", "python3.12", "arm64")
    assert (info.memory_mb, info.timeout_s, info.reserved_concurrency) == (1536, 12, 5)
    assert info.code_sha256 == lam.get_function(FunctionName="by-hand")["Configuration"]["CodeSha256"]
    lam.delete_function_concurrency(FunctionName="by-hand")
    assert function_info(deployer.clients, "by-hand").reserved_concurrency is None
    assert function_info(deployer.clients, "no-such-function") is None


def test_status_of_a_stack_in_review(deployer: Deployer) -> None:
    deployer.plan()  # a CREATE change set, not executed
    found = status(deployer.clients, STACK)
    assert found.status == "REVIEW_IN_PROGRESS"
    assert found.function is None
    assert found.outputs == {}


def test_status_of_a_missing_stack(deployer: Deployer) -> None:
    with pytest.raises(StackNotFound) as raised:
        status(deployer.clients, "nothing-here")
    assert raised.value.message == "stack 'nothing-here' does not exist"
    assert "resizer deploy" in raised.value.hint


def test_status_of_a_deleted_stack(deployer: Deployer) -> None:
    deployer.deploy()
    deployer.cfn.delete_stack(StackName=STACK)
    with pytest.raises(StackNotFound):
        status(deployer.clients, STACK)
