"""Contract suites: one per seam, each test run against every implementation of it.

Each module's `implementation` fixture is parametrised over factories of the seam's
implementations (today the in-process ones); a shared implementation (Redis, PostgreSQL,
S3) joins by adding its factory there, and must pass the same tests."""
