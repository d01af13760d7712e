"""Published flows: the lookup of a trigger secret, launching runs, rate limits, budgets and
callbacks. No HTTP: the routes in `plait.api` call these services."""
