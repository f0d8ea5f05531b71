"""A local S3-compatible server for tests: moto in server mode, in its own process, checking
credentials (moto's IAM enforcement): only the keys made by `S3Server` may read and write.

    with S3Server() as s3:
        s3.put("bucket", "key.tif", path)      # bucket made on first use
        with s3.gdal_env():                   # GDAL reads /vsis3/bucket/key.tif from it
            ...
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    """moto_server on a free port; IAM checks on after the 3 calls that make our user's keys."""

    def __init__(self):
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait()
        self.key_id, self.secret = self._make_user()
        self.buckets: set[str] = set()

    def _wait(self, seconds: float = 30) -> None:
        end = time.time() + seconds
        while time.time() < end:
            try:
                urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("moto server did not start")

    def _client(self, service: str, key_id="admin", secret="admin"):
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
        )

    def _make_user(self) -> tuple[str, str]:
        iam = self._client("iam")
        iam.create_user(UserName="reader")
        iam.put_user_policy(
            UserName="reader",
            PolicyName="all-s3",
            PolicyDocument=(
                '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}'
            ),
        )
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        return key["AccessKeyId"], key["SecretAccessKey"]

    def put(self, bucket: str, key: str, data) -> str:
        """Upload `data` (bytes or a file path) to s3://bucket/key; returns that URL."""
        s3 = self._client("s3", self.key_id, self.secret)
        if bucket not in self.buckets:
            s3.create_bucket(Bucket=bucket)
            self.buckets.add(bucket)
        body = data if isinstance(data, bytes) else open(data, "rb").read()
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        return f"s3://{bucket}/{key}"

    def env(self, key_id: str | None = None, secret: str | None = None) -> dict[str, str]:
        """The GDAL/AWS settings that point /vsis3/ at this server with these keys."""
        return {
            "AWS_S3_ENDPOINT": f"127.0.0.1:{self.port}",
            "AWS_HTTPS": "NO",
            "AWS_VIRTUAL_HOSTING": "FALSE",
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": key_id or self.key_id,
            "AWS_SECRET_ACCESS_KEY": secret or self.secret,
        }

    @contextlib.contextmanager
    def gdal_env(self, key_id: str | None = None, secret: str | None = None):
        """GDAL config options of `env` for the block (the previous ones restored after)."""
        from osgeo import gdal

        options = self.env(key_id, secret)
        old = {k: gdal.GetConfigOption(k) for k in options}
        for k, v in options.items():
            gdal.SetConfigOption(k, v)
        try:
            yield options
        finally:
            for k, v in old.items():
                gdal.SetConfigOption(k, v)

    def stop(self) -> None:
        """End the server process."""
        self.process.terminate()
        self.process.wait(10)

    def __enter__(self) -> S3Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
