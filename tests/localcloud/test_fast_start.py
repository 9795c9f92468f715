"""Start-up defers what only rare calls need, and those calls still behave as moto's own."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from localcloud import patching

# Runs in a fresh interpreter: start the local cloud, record what start-up imported, then use the
# deferred parts through the HTTP endpoint with boto3.
SCRIPT = textwrap.dedent(
    """
    import json, sys, threading
    from pathlib import Path

    import boto3
    from botocore.exceptions import ClientError

    from localcloud import patching, server
    from localcloud.process import free_port

    port = free_port()
    cloud = server.start(port=port, data_dir=Path(sys.argv[1]))
    loaded_at_start = sorted(m for m in sys.modules if m.startswith("openapi_spec_validator"))
    threading.Thread(target=cloud.server.serve_forever, daemon=True).start()
    api = boto3.client(
        "apigateway", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
        aws_access_key_id="localcloud", aws_secret_access_key="localcloud",
    )
    good = {
        "openapi": "3.0.0",
        "info": {"title": "imported", "description": "d", "version": "1"},
        "paths": {"/pets": {"get": {"responses": {"200": {"description": "ok"}}}}},
    }
    made = api.import_rest_api(failOnWarnings=True, body=json.dumps(good).encode())
    paths = sorted(r["path"] for r in api.get_resources(restApiId=made["id"])["items"])
    bad = {**good, "paths": {"/pets": {"get": {"responses": "not a mapping"}}}}
    try:
        api.import_rest_api(failOnWarnings=True, body=json.dumps(bad).encode())
        refusal = None
    except ClientError as error:
        refusal = [error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]]
    import moto.apigateway.models as models
    import openapi_spec_validator
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
    print(json.dumps({
        "loaded_at_start": loaded_at_start,
        "paths": paths,
        "refusal": refusal,
        "real_validate": models.validate is openapi_spec_validator.validate,
        "real_error": models.OpenAPIValidationError is OpenAPIValidationError,
        "patched": sorted(
            p.target for group in patching.Patches.registry for p in group.installed
            if p.target.startswith(("moto.apigateway.models.", "moto.ec2.models.availability"))
        ),
    }))
    cloud.server.shutdown()
    cloud.shutdown()
    """
)


def test_start_does_not_import_the_openapi_validator_and_an_openapi_import_still_validates(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["loaded_at_start"] == []
    assert seen["paths"] == ["/", "/pets"]
    assert seen["refusal"] == ["BadRequestException", 400]
    assert seen["real_validate"] and seen["real_error"]
    assert seen["patched"] == [  # moto's names rebound through patching.Patches, checked like every patch
        "moto.apigateway.models.OpenAPIValidationError",
        "moto.apigateway.models.validate",
        "moto.ec2.models.availability_zones_and_regions.Session",
    ]


def test_an_instance_attribute_check_reads_compiled_methods_and_still_fails_loudly() -> None:
    class Thing:
        def __init__(self, other: "Thing | None" = None) -> None:
            self.kept = 1
            self.typed: int = 2
            if other is not None:
                other.foreign = 3  # another object's attribute: not an instance attribute of self

        @property
        def shown(self) -> int:
            return self.kept

        @shown.setter
        def shown(self, value: int) -> None:
            self.set_by_property = value

        def later(self) -> None:
            def inner() -> None:
                self.in_closure = 4

            inner()

    for attribute in ("kept", "typed", "set_by_property", "in_closure"):
        patching.require_instance_attribute(Thing, attribute)
    for attribute in ("foreign", "shown", "missing"):
        with pytest.raises(patching.PatchTargetChanged, match=r"no such assignment"):
            patching.require_instance_attribute(Thing, attribute)
