"""The app needs nothing but its own server: a classroom without internet, or behind a firewall, gets
every page whole, and no visitor's browser is sent to a third party. The favicon was a Material icon
that the page fetched from fonts.gstatic.com (a console error on every load offline); it is an emoji now,
drawn inline.

Nor does it take orders from a page that embeds it: Streamlit obeys messages (stop or rerun the
script, disable the inputs) from the parent frames of its `client.allowedOrigins`, by default
Community Cloud's domains; the app's list is empty."""
from __future__ import annotations

from urllib.parse import urlparse

from conftest import CHROMIUM_ARGS, FORMULA, chromium_path, no_exception, open_app


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


def test_an_embedding_page_cannot_control_the_app(browser, warm_app, server_url):
    """A page on a domain of Streamlit's default list (one that does not host the app) embeds it and
    posts the message that disables every input: the student's formula box stays usable."""
    # Chromium keeps public pages from framing a local address; a browser of its own lets this one.
    framing = browser.browser_type.launch(executable_path=chromium_path(), headless=True,
                                          args=[*CHROMIUM_ARGS, "--disable-features=LocalNetworkAccessChecks"])
    try:
        page = framing.new_page()
        embedder = "https://share.streamlit.io/embed"
        page.route(embedder, lambda route: route.fulfill(
            content_type="text/html",
            body=f'<iframe id="app" src="{server_url}/?view=playground" width="1300" height="900"></iframe>'))
        page.goto(embedder)
        box = page.frame_locator("#app").locator(FORMULA)
        box.wait_for(timeout=90_000)
        assert box.is_enabled()
        for _ in range(3):   # the app may still be opening its link to a host: post more than once
            page.evaluate("""() => document.getElementById('app').contentWindow.postMessage(
                {stCommVersion: 1, type: 'SET_INPUTS_DISABLED', disabled: true}, '*')""")
            page.wait_for_timeout(500)
        assert box.is_enabled(), "a message from the embedding page disabled the app's inputs"
    finally:
        framing.close()
