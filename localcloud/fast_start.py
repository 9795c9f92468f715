"""Shorter start-up: moto's EC2 region table is built from one boto3 session instead of three,
and the Lambda interpreter is probed while moto is imported.

Importing moto's CloudFormation pulls in EC2, whose region table calls ``boto3.Session()`` three
times at import; each new session loads botocore's endpoint data again (seconds on a loaded
2-core machine). Importing that module while ``boto3.Session()`` hands out one shared session
builds the same table once. Only that import sees the shared session; ``boto3.Session`` is
restored right after.
"""

import sys
import threading


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
    sys.modules[name].Session = real  # type: ignore[attr-defined]


def prefetch_lambda_python() -> None:
    """Find the functions' interpreter (a subprocess probe, cached) in a thread, meanwhile."""
    from localcloud import interpreter

    threading.Thread(target=interpreter.find, name="lambda-python-probe", daemon=True).start()
