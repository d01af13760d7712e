from alembic.script import ScriptDirectory

from plait.store.db import alembic_config
from plait.store.migrations.head import HEAD


def test_head_constant_matches_the_newest_migration() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD
