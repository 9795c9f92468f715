"""Shorter start-up: moto's EC2 region table is built from one boto3 session instead of three,
the OpenAPI validator is imported on first use, and the Lambda interpreter is probed meanwhile.

Importing moto's CloudFormation pulls in EC2, whose region table calls ``boto3.Session()`` three
times at import; each new session loads botocore's endpoint data again (seconds on a loaded
2-core machine). Importing that module while ``boto3.Session()`` hands out one shared session
builds the same table once. Only that import sees the shared session; ``boto3.Session`` is
restored right after (and moto's module's own name for it, through localcloud.patching).
"""

import sys
import threading
import types
from typing import Any

from localcloud import patching

_patches = patching.Patches("fast start: moto's names rebound after a faster import")


def import_moto_regions_once() -> None:
    name = "moto.ec2.models.availability_zones_and_regions"
    if name in sys.modules:
        return
    import boto3

    real = boto3.Session
    shared = real()

    def session(*args: object, **kwargs: object) -> object:
        return shared if not args and not kwargs else real(*args, **kwargs)

    boto3.Session = session  # type: ignore[misc]
    try:
        __import__(name)
    finally:
        boto3.Session = real  # type: ignore[misc]
    _patches.set(sys.modules[name], "Session", real, expect="*args, **kwargs")  # moto bound the shared one


def import_apigateway_without_openapi_validator() -> None:
    """Import moto's API Gateway models without openapi_spec_validator (1.5 s of a loaded start).

    moto binds ``validate`` and ``OpenAPIValidationError`` from it at import, for one use: checking
    an imported OpenAPI document (``failonwarnings``). While that import runs, stand-ins sit in
    sys.modules (removed right after, so any other import gets the real package); the first call of
    the stand-in ``validate`` imports the real package and binds moto's two names to the real
    objects (through localcloud.patching, checked like every patch) before validating. moto reads
    ``OpenAPIValidationError`` only in the ``except`` of the ``try`` around that call, so it never
    sees the stand-in class.
    """
    name = "moto.apigateway.models"
    if name in sys.modules or "openapi_spec_validator" in sys.modules:
        return
    package = types.ModuleType("openapi_spec_validator")
    exceptions = types.ModuleType("openapi_spec_validator.validation.exceptions")

    class OpenAPIValidationError(Exception):
        """Never raised: replaced by the real class before the first validation."""

        def __init__(self, message: str, *args: Any, **kwargs: Any) -> None:  # the real class's call
            super().__init__(message)

    def validate(spec: Any, base_uri: str = "", cls: Any = None) -> None:
        from openapi_spec_validator import validate as real_validate
        from openapi_spec_validator.validation.exceptions import OpenAPIValidationError as real_error

        models = sys.modules[name]
        with _patches.installing():
            if getattr(models, "validate", None) is validate:  # not rebound by a concurrent first call
                _patches.set(models, "validate", real_validate, expect="spec, base_uri, cls")
                _patches.set(models, "OpenAPIValidationError", real_error, expect="message, *args, **kwargs")
        real_validate(spec, base_uri, cls)

    package.validate = validate  # type: ignore[attr-defined]
    exceptions.OpenAPIValidationError = OpenAPIValidationError  # type: ignore[attr-defined]
    stand_ins = {package.__name__: package, exceptions.__name__: exceptions}
    sys.modules.update(stand_ins)  # moto binds validate and OpenAPIValidationError from them
    try:
        __import__(name)
    finally:
        for key, module in stand_ins.items():
            if sys.modules.get(key) is module:
                del sys.modules[key]


def prefetch_lambda_python() -> None:
    """Find the functions' interpreter (a subprocess probe, cached) in a thread, meanwhile."""
    from localcloud import interpreter

    threading.Thread(target=interpreter.find, name="lambda-python-probe", daemon=True).start()
