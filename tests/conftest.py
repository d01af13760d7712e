import pytest

pytest_plugins = ["tests.fakes.fixtures"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="browser tests save docs/screenshots/*.png (scripts/screenshots.sh)",
    )
