from __future__ import annotations

import hashlib
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher, profiles

from plait.crypto import passwords
from plait.store.db import Database, open_database
from tests import server
from tests.services import Postgres

pytest_plugins = ["tests.fakes.fixtures", "tests.service_fixtures"]

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="browser tests save docs/screenshots/*.png (scripts/screenshots.sh)",
    )


@pytest.fixture(scope="session", autouse=True)
def _cheapest_password_hashes() -> Iterator[None]:
    """argon2id at its cheapest cost (`argon2.profiles.CHEAPEST`, made for tests) in this
    process: every test server hashes the admin's password and each sign-in verifies one,
    and the production cost (64 MiB, 3 passes, 4 lanes) is ~0.2 s of CPU each. The
    algorithm and the code paths are the real ones; servers the tests start as separate
    processes keep the production cost."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield


@pytest.fixture(scope="session", autouse=True)
def _ctrl_c_reaches_the_processes_tests_start() -> None:
    """A shell starts a background job (`./test &`) with SIGINT ignored, and the processes
    the tests start would inherit that: the tests that press Ctrl+C on `plait batch` would
    see it ignored. Handled here, SIGINT is back at its default in every child (exec resets
    a handled signal), as from a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: `pytest -n N --dist loadfile`
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile` (./test), with the browser tests as one file: each test module
    runs whole on one worker, so its module fixtures (a `SHARED_SERVER`, the scale-out
    cluster) start once, and one worker runs every browser test, starting their one
    `plait serve` and Chromium (package fixtures) once."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByFile(LoadScopeScheduling):  # type: ignore[misc]  # xdist ships no types
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return "tests/e2e" if path.startswith("tests/e2e/") else path

    return ByFile(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test runs under a node id of its own: pytest-xdist (`./test`) tells items
    apart by id, and of items sharing one it ran only the first, silently. schemathesis
    makes an item per API operation, named `test[METHOD /path]`, but on pytest 9 (which
    builds an item's id from its parametrization, and schemathesis has none) they all get
    the test's bare id: the OpenAPI fuzz test ran 1 of its 51 operations. Each gets its
    operation as its id's parameters; any other repeat stops the run."""
    for item in items:
        operation = getattr(item, "operation_label", None)  # schemathesis's items only
        if operation is not None and item.id.params is None:
            item._id = item.id.with_params(operation)  # no public way to name an item's id
    repeated = sorted(nodeid for nodeid, n in Counter(i.nodeid for i in items).items() if n > 1)
    if repeated:
        raise pytest.UsageError(f"tests share node ids (pytest-xdist would skip them): {repeated}")


def on_postgres() -> bool:
    """PLAIT_TEST_DATABASE=postgres: servers and the `db` fixture use PostgreSQL databases
    (`.ci/run` runs tests/integration so, after the default run on SQLite)."""
    return os.environ.get("PLAIT_TEST_DATABASE", "sqlite") == "postgres"


class TestDatabases:
    """A fresh PostgreSQL database for each data dir the tests' servers use (the same one
    again for a server restarted on the same data dir)."""

    def __init__(self, postgres: Postgres):
        self.postgres = postgres
        self.made: dict[Path, str] = {}

    def __call__(self, data_dir: Path) -> str:
        key = data_dir.resolve()
        if key not in self.made:
            self.made[key] = self.postgres.new_database()
        return self.made[key]

    def drop(self, under: Path | None = None) -> None:
        """Drop the databases of data dirs under `under` (None: all of them)."""
        for key in list(self.made):
            if under is None or key.is_relative_to(under):
                self.postgres.drop_database(self.made.pop(key))


@pytest.fixture(scope="session", autouse=on_postgres())
def test_databases(request: pytest.FixtureRequest) -> Iterator[TestDatabases]:
    databases = TestDatabases(request.getfixturevalue("postgres"))
    server.database_for = databases
    try:
        yield databases
    finally:
        server.database_for = None
        databases.drop()


@pytest.fixture(autouse=on_postgres())
def _drop_test_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[None]:
    """Drop the databases of the test's own data dirs once it ends (those of servers a
    module's tests share live outside it, until the session ends)."""
    databases: TestDatabases = request.getfixturevalue("test_databases")
    yield
    databases.drop(under=tmp_path.resolve())


@pytest.fixture
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database of its own: SQLite, or PostgreSQL under PLAIT_TEST_DATABASE."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'plait.db'}"
    if on_postgres():
        url = request.getfixturevalue("test_databases")(tmp_path / "db")
    database = await open_database(url)
    yield database
    await database.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated database of its own: SQLite, then PostgreSQL (a fresh database on the
    test server, `postgres_url`). For code whose SQL must hold on both (claims, leases)."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'plait.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    database = await open_database(url)
    yield database
    await database.close()


def _docs_digest() -> dict[str, str]:
    return {
        str(path.relative_to(DOCS)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(DOCS.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="session", autouse=True)
def _docs_are_left_as_committed(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests never rewrite committed files: docs/ (the screenshots included) ends the
    session as it began, unless `--screenshots` (scripts/screenshots.sh) asked for it."""
    before = _docs_digest()
    yield
    if not request.config.getoption("--screenshots"):
        after = _docs_digest()
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        assert not changed, f"tests changed docs/: {changed}; only scripts/screenshots.sh may"
