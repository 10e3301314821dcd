"""An S3 bucket behind a boto3 client built on first use: the media store's and the backups' common part."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr


def s3_client_factory(endpoint_url: str | None, region: str | None, access_key_id: str | None,
                      secret_access_key: SecretStr | None) -> Callable[[], Any]:  # fmt: skip
    """What builds the client; settings left unset fall back to boto3's own defaults."""

    def build_client() -> Any:
        import boto3  # here, not at the top: the intake's cold start should not pay for it

        return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
                            aws_secret_access_key=secret_access_key.get_secret_value() if secret_access_key
                            else None)  # fmt: skip

    return build_client


class LazyS3Bucket:
    """A bucket and its client: given (tests), or built by `client_factory` on first use."""

    def __init__(self, bucket: str, client: Any = None, *, client_factory: Callable[[], Any] | None = None) -> None:
        if (client is None) == (client_factory is None):
            raise ValueError("pass either a boto3 S3 client or a client_factory")
        self.bucket = bucket
        self._client = client
        self._client_factory = client_factory

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client
