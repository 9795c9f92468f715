"""What ``Clients`` needs of a boto3 Session, on botocore alone: importing boto3 (and s3transfer
with it) costs about 0.3 s of every command's start, and the operations use clients only."""

from typing import Any


class Session:
    """boto3.Session's client-making part: same arguments, same ``client``, ``region_name`` and
    ``get_credentials``; ProfileNotFound at construction for an unknown profile, as boto3 raises it."""

    def __init__(
        self,
        profile_name: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
    ) -> None:
        import botocore.session

        self._session = botocore.session.Session(profile=profile_name)
        if profile_name is not None:
            self._session.get_scoped_config()  # raises ProfileNotFound now
        if region_name:
            self._session.set_config_variable("region", region_name)
        if aws_access_key_id:
            self._session.set_credentials(aws_access_key_id, aws_secret_access_key)

    @property
    def region_name(self) -> str | None:
        return self._session.get_config_variable("region")

    @property
    def profile_name(self) -> str:
        return self._session.profile or "default"

    def get_credentials(self) -> Any:
        return self._session.get_credentials()

    def client(self, service_name: str, **kwargs: Any) -> Any:
        return self._session.create_client(service_name, **kwargs)
