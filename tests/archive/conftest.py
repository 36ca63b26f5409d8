"""A local S3 server for the storage tests: the one `.ci/run` starts (its address in
ITERABLE_SIM_TEST_S3_ENDPOINT), else moto's server started here, in this process, for the session."""
from __future__ import annotations

import os
import socket
import uuid
from typing import Iterator

import pytest

S3_ENDPOINT_VARIABLE = "ITERABLE_SIM_TEST_S3_ENDPOINT"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    given = os.environ.get(S3_ENDPOINT_VARIABLE)
    if given:
        yield given
        return
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:  # a free port: moto 5.0.0, the floor, cannot tell the port it took for 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A new, empty bucket on the local S3 server, reached through the environment as botocore (and so s3fs,
    and Dask workers started after this) reads it: AWS_ENDPOINT_URL and stand-in keys, which moto takes."""
    import fsspec

    for name, value in {"AWS_ENDPOINT_URL": s3_endpoint, "AWS_ACCESS_KEY_ID": "moto-test",
                        "AWS_SECRET_ACCESS_KEY": "moto-test", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    bucket = f"iterable-sim-{uuid.uuid4().hex[:12]}"
    fs = fsspec.filesystem("s3")  # the instance the reader gets too (fsspec caches one per set of arguments)
    fs.mkdir(bucket)
    try:
        yield bucket
    finally:
        fs.rm(bucket, recursive=True)
