"""The local app's guard, as Jupyter and Datasette do it.

A secret token per launch is in the URL the command prints; the first request with it gets an
HttpOnly, SameSite=Strict cookie and is redirected to a URL without it (so it does not linger in
the address bar or history). Every other request needs the cookie. The Host header must name
the loopback address (DNS rebinding), and a request that changes anything must come from this
page: Sec-Fetch-Site same-origin or none, and an Origin, when sent, equal to ours (another
port of 127.0.0.1 is "same-site" and would otherwise get the cookie).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, abort, redirect, request

COOKIE = "importer_session"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def install(app: Flask, token: str) -> None:
    """Guard every request of `app` with `token`."""

    def host_ok() -> bool:
        host = (request.host or "").lower()
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        return name in LOCAL_HOSTS

    @app.before_request
    def _guard() -> Response | None:
        if not host_ok():
            abort(403, "This app answers only at 127.0.0.1 or localhost.")
        given = request.args.get("token")
        if given is not None and request.method == "GET" and hmac.compare_digest(given, token):
            target = request.path if request.path.startswith("/") else "/"
            response = redirect(target, code=303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
            return response
        cookie = request.cookies.get(COOKIE, "")
        if not cookie or not hmac.compare_digest(cookie, token):
            abort(403, "Open the address the importer printed when it started (it carries the "
                       "key to this page).")
        if request.method not in SAFE_METHODS:
            site = request.headers.get("Sec-Fetch-Site")
            if site is not None and site not in ("same-origin", "none"):
                abort(403, "Changes are accepted only from this page.")
            origin = request.headers.get("Origin")
            if origin is not None and origin != f"{request.scheme}://{request.host}":
                abort(403, "Changes are accepted only from this page.")
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        return response
