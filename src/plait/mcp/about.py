"""How Plait's MCP servers (over HTTP and the stdio proxy) introduce themselves."""

NAME = "plait"
INSTRUCTIONS = (
    "Each tool runs a published Plait image flow (Gemini image models) with the inputs its "
    "schema lists; image inputs take an http(s) URL, a data: URL or base64. A result holds "
    "the flow's answer, its images, and the run's id, duration and cost in USD."
)
