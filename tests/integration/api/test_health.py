"""`/api/health` is readiness: the process and the database it uses, check by check."""

from __future__ import annotations

from pathlib import Path

from tests.server import LiveServer, server_settings
from tests.services import Postgres

# A reachable database (and the blob directory) on the default server:
# test_shared_services.test_the_default_server_checks_its_database_and_blob_directory.


def test_health_is_503_naming_the_database_when_it_is_gone(
    tmp_path: Path, postgres: Postgres
) -> None:
    url = postgres.new_database()
    settings = server_settings(tmp_path / "data", PLAIT_DATABASE_URL=url)
    with LiveServer(settings) as live, live.client() as client:
        assert client.get("/api/health").json()["checks"]["database"]["ok"] is True
        postgres.drop_database(url)
        answer = client.get("/api/health")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"].startswith("database: ")
    assert str(postgres.port) not in answer.text  # no address of the database
