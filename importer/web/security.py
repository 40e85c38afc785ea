"""The local app's guard, as Jupyter and Datasette do it, and what they leave open.

A secret token is in the URL the command prints; a request with it gets a session cookie
(HttpOnly, SameSite=Strict) and is redirected to a URL without it. The browser keeps the URL
in its history all the same (a redirect or history.replaceState does not remove it), so a
token works once: the command then prints a fresh address for another browser.

Cookies ignore ports, so every other server on 127.0.0.1 receives ours, and such a server can
send it back with any headers it likes (Sec-Fetch-Site, Origin: a program is no browser). So
the cookie is named per launch (two launches do not log each other out), holds a session value,
never the token, that lives for an hour without use and is replaced every few minutes, and
alone it authorises nothing that changes state: unsafe requests also carry the page's own
secret in a header. That secret is never in a page a cookie can fetch: it is handed out once,
to the load that spent the token, in the redirect's fragment (`/#page=...`, which the browser
keeps and never sends on), and the page keeps it in localStorage, which is the page's origin's
alone (scheme, host and port: no other local server can read it, unlike cookies). A reload and
every other tab read it from there; the cookie's rotation leaves it alone. The Host header must
name the loopback address and our port (DNS rebinding), and an unsafe request must come from
this page (Sec-Fetch-Site, Origin) as a browser says it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable

from flask import Flask, Response, abort, g, redirect, request

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PAGE_HEADER = "X-Importer-Page"
PAGE_FRAGMENT = "#page="  # how the load that spent the token hands the page its secret
SESSION_SECONDS = 3600.0  # a session unused this long is gone (the open page keeps it in use)
ROTATE_SECONDS = 300.0  # a session older than this is replaced by a fresh one...
GRACE_SECONDS = 30.0  # ...and stays good this long for requests already on their way
KEPT = 64  # sessions and page secrets kept at most (oldest forgotten first)
HEADERS = {
    # No inline style or script at all: nothing in a file can restyle the page or run in it.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; object-src 'none'; frame-src 'none'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(given: str, secret: str) -> bool:
    """Constant-time comparison that any text can go through (a non-ASCII str would raise)."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"),
                               secret.encode("utf-8", "surrogatepass"))


class Sessions:
    """Session values and page secrets of one launch, in memory only."""

    def __init__(self, token: str, clock=time.monotonic) -> None:  # type: ignore[no-untyped-def]
        self.token = token
        self.on_new_token: Callable[[str], None] | None = None  # says where to log in next
        self.clock = clock
        self.cookie = f"importer_{secrets.token_hex(4)}"
        self.lock = threading.Lock()
        self.sessions: dict[str, list] = {}  # value -> [issued, expires, successor]
        self.pages: dict[str, float] = {}  # page secret -> issued

    def exchange(self, given: str) -> tuple[str, str] | None:
        """A new session and page secret for the token, which is then spent (it stays in the
        history)."""
        with self.lock:
            if not same(given, self.token):
                return None
            self.token = new_token()
            fresh = self.token
        if self.on_new_token is not None:
            self.on_new_token(fresh)
        return self.issue(), self.page()

    def issue(self) -> str:
        value, now = secrets.token_urlsafe(32), self.clock()
        with self.lock:
            self.sessions[value] = [now, now + SESSION_SECONDS, None]
            _trim(self.sessions)
        return value

    def check(self, value: str) -> str | None:
        """None when `value` is no live session; else the value to carry on with (a new one
        when it is due to be replaced)."""
        now = self.clock()
        with self.lock:
            found = next((s for s in self.sessions if same(value, s)), None)
            if found is None:
                return None
            issued, expires, successor = self.sessions[found]
            if expires <= now:
                del self.sessions[found]
                return None
            if successor is not None and successor in self.sessions:
                return successor
            if now - issued < ROTATE_SECONDS:
                self.sessions[found][1] = now + SESSION_SECONDS
                return found
            self.sessions[found][1] = min(expires, now + GRACE_SECONDS)
        successor = self.issue()
        with self.lock:
            if found in self.sessions:
                self.sessions[found][2] = successor
        return successor

    def page(self) -> str:
        value = secrets.token_urlsafe(24)
        with self.lock:
            self.pages[value] = self.clock()
            _trim(self.pages)
        return value

    def page_ok(self, value: str) -> bool:
        with self.lock:
            return any(same(value, p) for p in self.pages)


def _trim(kept: dict) -> None:
    while len(kept) > KEPT:
        del kept[next(iter(kept))]


def install(app: Flask, token: str) -> Sessions:
    """Guard every request of `app` with `token`. The server sets `IMPORTER_PORT` in the
    app's config once it knows its port: then the Host header must name it too."""
    sessions = Sessions(token)

    def host_ok() -> bool:
        host = (request.host or "").lower()
        name, _, given = host.rpartition(":") if not host.endswith("]") else (host, "", "")
        if not name:
            name, given = host, ""
        if name not in LOCAL_HOSTS:
            return False
        port = app.config.get("IMPORTER_PORT")
        return port is None or given == str(port)

    def set_cookie(response: Response, value: str) -> None:
        response.set_cookie(sessions.cookie, value, httponly=True, samesite="Strict",
                            path="/", max_age=int(SESSION_SECONDS))

    @app.before_request
    def _guard() -> Response | None:
        if not host_ok():
            abort(403, "This app answers only at the address the importer printed.")
        given = request.args.get("token")
        if given is not None and request.method == "GET" and (
                found := sessions.exchange(given)) is not None:
            session, page = found
            path = request.path if request.path.startswith("/") else "/"
            response = redirect(f"{path}{PAGE_FRAGMENT}{page}", 303)
            set_cookie(response, session)
            return response
        current = sessions.check(request.cookies.get(sessions.cookie, ""))
        if current is None:
            abort(403, "Open the latest address the importer printed (each one carries a key "
                       "to this page that works once).")
        g.session = current
        if request.method not in SAFE_METHODS:
            site = request.headers.get("Sec-Fetch-Site")
            if site is not None and site not in ("same-origin", "none"):
                abort(403, "Changes are accepted only from this page.")
            origin = request.headers.get("Origin")
            if origin is not None and origin != f"{request.scheme}://{request.host}":
                abort(403, "Changes are accepted only from this page.")
            if not sessions.page_ok(request.headers.get(PAGE_HEADER, "")):
                abort(403, "This page may not make changes: open the latest address the "
                           "importer printed (each one carries a key that works once).")
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        for key, value in HEADERS.items():
            response.headers.setdefault(key, value)
        if getattr(g, "session", None) and g.session != request.cookies.get(sessions.cookie):
            set_cookie(response, g.session)
        return response

    return sessions
