"""Published flows: the lookup of a trigger secret, launching runs, rate limits, budgets,
callbacks, and a call's steps shared by the HTTP Trigger and the MCP tools. No HTTP: the
routes in `plait.api` call these services and map their refusals to status codes."""
