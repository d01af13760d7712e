"""The newest migration's revision id. Update it with every new migration (a test checks)."""

HEAD = "0010_run_error_category"
