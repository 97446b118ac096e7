"""The app needs nothing but its own server: a classroom without internet, or behind a firewall, gets
every page whole, and no visitor's browser is sent to a third party. The favicon was a Material icon
that the page fetched from fonts.gstatic.com (a console error on every load offline); it is an emoji now,
drawn inline."""
from __future__ import annotations

from urllib.parse import urlparse

from conftest import no_exception, open_app


def test_every_request_goes_to_the_apps_own_server(page, server_url):
    own = urlparse(server_url).netloc
    elsewhere, console_errors = [], []
    page.on("request", lambda r: elsewhere.append(r.url) if urlparse(r.url).scheme in ("http", "https", "ws", "wss")
            and urlparse(r.url).netloc != own else None)
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    for view in ("playground", "curvature"):
        open_app(page, server_url, f"?view={view}")
        no_exception(page)
    assert elsewhere == [], elsewhere
    assert console_errors == [], console_errors
    icon = page.evaluate("() => (document.querySelector(\"link[rel='shortcut icon']\") || {}).href || ''")
    assert icon.startswith("data:image/svg+xml"), icon
