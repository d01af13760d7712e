"""The API page works without internet: Swagger UI's assets come from the server."""

from __future__ import annotations

from playwright.sync_api import Browser, Route, expect

from tests.e2e.conftest import Server, browser_page


def test_docs_renders_its_operations_with_the_network_off(browser: Browser, server: Server) -> None:
    blocked: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    with browser_page(browser, server) as page:
        page.context.route("**/*", only_the_server)
        page.goto("/docs")
        operations = page.locator(".opblock")
        expect(operations.first).to_be_visible()
        assert operations.count() > 20
        expect(page.locator(".opblock-summary-path", has_text="/api/flows").first).to_be_visible()
        assert blocked == []
