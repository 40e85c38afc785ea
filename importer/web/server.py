"""`importer serve`: the web app under waitress on the loopback address, until Ctrl-C."""

from __future__ import annotations

import contextlib
import ipaddress
import webbrowser
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from waitress import create_server

from importer.errors import UsageError
from importer.sending.locks import sandbox_state
from importer.text import shown
from importer.web import security
from importer.web.app import Settings, create_app, sandbox_target

if TYPE_CHECKING:
    from importer.sandbox.faults import Knobs

# Threads serve requests; progress streams take at most progress.MAX_STREAMS of them and file
# checks workspace.CHECKS, so the rest always answer Cancel and the page at once.
THREADS = 12
CONNECTIONS = 200  # open connections waitress accepts (idle ones are closed after a minute)


def loopback(host: str) -> str:
    """Only this computer may reach the app: its pages hold credentials and spend money."""
    if host == "localhost":
        return host
    try:
        if ipaddress.ip_address(host.strip("[]")).is_loopback:
            return host
    except ValueError:
        pass
    raise UsageError(f"{shown(host)} is not this computer's loopback address; the web app "
                     "serves only 127.0.0.1, ::1 or localhost")


@contextlib.contextmanager
def _sandbox(settings: Settings, knobs: Knobs) -> Iterator[None]:
    from importer.sandbox import SandboxServer

    with SandboxServer(db_path=str(sandbox_state()), knobs=knobs) as server:
        settings.target = sandbox_target(server.base_url, server.account_sid,
                                         server.auth_token, server.instance, settings.timeout,
                                         settings.retries)
        yield


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8765,
          sandbox: Knobs | None = None, open_browser: bool = True,
          announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted; `announce` gets the one line with the address to open.
    `sandbox`: send runs to a built-in sandbox with these knobs."""
    host = loopback(host)
    settings.root.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        if sandbox is not None:
            stack.enter_context(_sandbox(settings, sandbox))
        token = security.new_token()
        app = create_app(settings, token)
        try:
            server = create_server(app, host=host, port=port, threads=THREADS,
                                   connection_limit=CONNECTIONS, channel_timeout=60,
                                   clear_untrusted_proxy_headers=True)
        except OSError as exc:
            raise UsageError(f"cannot serve on {shown(host)}:{port} "
                             f"({exc.strerror or exc})") from exc
        app.config["IMPORTER_PORT"] = server.effective_port  # the Host header must name it
        shown_host = f"[{host}]" if ":" in host else host
        base = f"http://{shown_host}:{server.effective_port}/"
        url = f"{base}?token={token}"
        # Each address works once (browsers keep it in their history): the next one, printed
        # as the first was, opens the page in another browser.
        app.extensions["importer"]["sessions"].on_new_token = lambda fresh: announce(
            f"{base}?token={fresh}")
        announce(url)
        if open_browser:
            webbrowser.open(url)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            app.extensions["importer"]["runs"].stop_all()
            server.close()
