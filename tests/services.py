"""Real PostgreSQL, Redis and S3-compatible servers for tests, on free loopback ports.

Each server is a child process started from the binaries the machine has (Debian's
`postgresql` and `redis-server`, moto's server from PyPI for S3), once per test session;
each test gets a fresh database, a flushed Redis database and a new bucket. Nothing is
downloaded. A missing binary fails the test that needs it with the command to install it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_START_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited at start:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port}:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def _running(process: subprocess.Popen[bytes], port: int, what: str, root: Path) -> Iterator[None]:
    """Once the server listens on `port`; stopped and its files removed afterwards."""
    try:
        _wait_for_port(port, process, what, root / "log")
        yield
    finally:
        _stop(process)
        shutil.rmtree(root, ignore_errors=True)


def _binary(name: str, package: str, extra_dirs: tuple[str, ...] = ()) -> str:
    found = shutil.which(name)
    if found:
        return found
    for pattern in extra_dirs:
        for candidate in sorted(glob.glob(os.path.join(pattern, name)), reverse=True):
            if os.access(candidate, os.X_OK):
                return candidate
    raise RuntimeError(
        f"the tests need {name}: sudo apt-get install --no-install-recommends {package}"
    )


# PostgreSQL ------------------------------------------------------------------------------

_PG_DIRS = ("/usr/lib/postgresql/*/bin",)


@dataclass
class Postgres:
    port: int
    process: subprocess.Popen[bytes]
    root: Path

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            conn.execute(sql.encode())  # test-made names only

    def new_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        name = f"t_{secrets.token_hex(6)}"
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_for_connections(server: Postgres, log: Path) -> None:
    """The port opens before the server accepts connections ("the database system is
    starting up"): wait until a query answers."""
    import psycopg

    deadline = time.monotonic() + _START_SECONDS
    while True:
        try:
            server._admin("SELECT 1")
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline or server.process.poll() is not None:
                message = f"postgres did not accept connections:\n{log.read_text()}"
                raise RuntimeError(message) from None
            time.sleep(0.05)


def _as_postgres_user() -> list[str]:
    """initdb and postgres refuse to run as root: run them as the `postgres` account."""
    if os.getuid() != 0:
        return []
    return [_binary("runuser", "util-linux"), "-u", "postgres", "--"]


@contextlib.contextmanager
def postgres_server() -> Iterator[Postgres]:
    initdb = _binary("initdb", "postgresql", _PG_DIRS)
    postgres = _binary("postgres", "postgresql", _PG_DIRS)
    root = Path(tempfile.mkdtemp(prefix="plait-pg-"))
    data = root / "data"
    log = root / "log"
    wrap = _as_postgres_user()
    if wrap:
        shutil.chown(root, "postgres")
    os.chmod(root, 0o700)
    subprocess.run(
        [*wrap, initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--no-sync", "--locale=C"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*wrap, postgres, "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
             "-k", str(root), "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=300"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    with _running(process, port, "postgres", root):
        server = Postgres(port, process, root)
        _wait_for_connections(server, log)
        yield server


# Redis -----------------------------------------------------------------------------------


@dataclass
class Redis:
    port: int
    process: subprocess.Popen[bytes]

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def flush(self) -> None:
        import redis

        with redis.Redis(host="127.0.0.1", port=self.port) as client:
            client.flushall()


@contextlib.contextmanager
def redis_server() -> Iterator[Redis]:
    binary = _binary("redis-server", "redis-server")
    root = Path(tempfile.mkdtemp(prefix="plait-redis-"))
    log = root / "log"
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(root)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    with _running(process, port, "redis-server", root):
        yield Redis(port, process)


# S3 (moto's server mode) -----------------------------------------------------------------

S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "plait-test",
    "AWS_SECRET_ACCESS_KEY": "plait-test-secret",
    "AWS_REGION": "us-east-1",
}


@dataclass
class S3:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The standard AWS variables that point a client at this server."""
        return {**S3_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def new_bucket(self) -> str:
        """A fresh bucket; returns its name."""
        import boto3

        name = f"plait-{secrets.token_hex(6)}"
        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=S3_CREDENTIALS["AWS_REGION"],
            aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        client.create_bucket(Bucket=name)
        return name


@contextlib.contextmanager
def s3_server() -> Iterator[S3]:
    binary = Path(sys.executable).with_name("moto_server")
    if not binary.exists():
        raise RuntimeError("the tests need moto_server: uv sync (moto[server] is a dev dependency)")
    root = Path(tempfile.mkdtemp(prefix="plait-s3-"))
    log = root / "log"
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **S3_CREDENTIALS},
        )
    with _running(process, port, "moto_server", root):
        yield S3(port, process)
