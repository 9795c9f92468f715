"""The signing key, read from its SSM SecureString parameter once per container (per name and version)."""

import functools

import boto3
from botocore.config import Config


@functools.cache
def ssm_client():
    """One SSM client per container, from the default chain; honours AWS_ENDPOINT_URL."""
    return boto3.client("ssm", config=Config(retries={"mode": "standard"}))


@functools.cache
def load(name: str, version: int = 0) -> str:
    """The decrypted value of parameter ``name`` (at ``version``; 0 is the newest).

    Cached for the container's life: a new key reaches the function as a new SIGNING_KEY_VERSION,
    a new configuration that Lambda runs in new containers. A failure is not cached (the next
    request tries again) and is raised as is: the handler logs it and answers 500.
    """
    selector = f"{name}:{version}" if version else name
    found = ssm_client().get_parameter(Name=selector, WithDecryption=True)["Parameter"]
    if found.get("Type") != "SecureString":  # a plain String would be readable by any ssm:Describe*
        raise ValueError(f"{name} is a {found.get('Type')} parameter, not a SecureString")
    return str(found["Value"])
