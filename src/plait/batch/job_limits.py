"""The bounds of one Gemini Batch API job, as Plait fills them."""

MAX_REQUESTS = 1000  # per job; also the rows in flight in this mode
MAX_BYTES = 1_000_000_000  # of request data per job (a request file may have 2 GB)
