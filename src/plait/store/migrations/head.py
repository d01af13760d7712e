"""The newest migration's revision id. Update it with every new migration (a test checks)."""

HEAD = "0014_leases"
