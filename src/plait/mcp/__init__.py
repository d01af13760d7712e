"""Published flows as MCP tools: which flows, their names and schemas (`tools`), running a
call (`calls`), the MCP server (`server`, served at `/mcp` by `plait.api.mcp_route`) and the
stdio proxy behind `plait mcp` (`proxy`)."""
