"""The newest migration's revision id. Update it with every new migration (a test checks)."""

HEAD = "0007_drop_prefix_indexes"
