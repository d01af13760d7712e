"""`plait.logs`: trigger secrets are masked in whatever form a logger gets the URL."""

from __future__ import annotations

import logging

import httpx
import pytest

from plait.logs import URL_LOGGERS, RedactSecrets, redact_secrets

SECRET = "Zk3_-secret-part-of-the-url-0123456789abcdef"


def _line(msg: str, args: object) -> str:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, msg, args, None)  # type: ignore[arg-type]
    assert RedactSecrets().filter(record)
    return record.getMessage()


@pytest.mark.parametrize(
    ("msg", "args"),
    [
        ('%s - "%s %s HTTP/%s" %d', ("1.2.3.4:5", "POST", f"/api/trigger/{SECRET}/t", "1.1", 200)),
        ("%s - %s %d", ("a", f"/api/trigger/{SECRET}/runs/r1?wait=false", 202)),
        ("HTTP Request: %s %s", ("POST", httpx.URL(f"https://x.example/api/trigger/{SECRET}/t"))),
        ("callback to %(url)s", ({"url": f"http://h/api/trigger/{SECRET}"},)),
        (f"literal /api/trigger/{SECRET}/node in the message", ()),
    ],
)
def test_secrets_are_masked_and_the_rest_is_kept(msg: str, args: object) -> None:
    line = _line(msg, args)
    assert SECRET not in line
    assert "/api/trigger/***" in line


def test_numbers_stay_numbers_for_percent_d() -> None:
    assert _line("%s %d", (f"/api/trigger/{SECRET}/t", 404)) == "/api/trigger/***/t 404"


def test_the_filter_is_installed_once_on_each_url_logger() -> None:
    redact_secrets()
    redact_secrets()
    for name in URL_LOGGERS:
        filters = logging.getLogger(name).filters
        assert sum(isinstance(f, RedactSecrets) for f in filters) == 1, name


@pytest.mark.parametrize(
    ("path", "kept"),
    [
        (
            "/api/trigger/s/t?callback_url=https://hooks.example/in?token=TOPSECRET&wait=false",
            "wait=false",
        ),
        (
            "/api/trigger/s/t?callback_url=https%3A%2F%2Fh.example%2F%3Ftoken%3DTOPSECRET",
            "callback_url=***",
        ),
        ("/files/abc?exp=1700000000&sig=TOPSECRET", "exp=1700000000"),
        ("/api/runs?flow_id=f1&api_key=TOPSECRET", "flow_id=f1"),
    ],
)
def test_query_string_values_are_masked_but_harmless_ones(path: str, kept: str) -> None:
    line = _line('%s - "%s %s HTTP/%s" %d', ("1.2.3.4:5", "GET", path, "1.1", 200))
    assert "TOPSECRET" not in line
    assert kept in line
    assert line.endswith('HTTP/1.1" 200')
