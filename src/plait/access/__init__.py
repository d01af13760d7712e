"""Who may do what: API token scopes, sign-in throttling, files a flow may read."""
