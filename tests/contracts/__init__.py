"""Contract suites: one per seam, each test run against every implementation of it.

Each module's `implementation` fixture is parametrised over factories of the seam's
implementations: the in-process ones and the shared ones (Redis, S3, PostgreSQL) on real
servers (`tests/services.py`); a new implementation joins by adding its factory there,
and must pass the same tests."""
