"""The HTTP layer around the dashboard: response headers and the WebSocket same-origin rule.

Streamlit has no option for response headers, so ``dashboard/web.py`` wraps the app in this ASGI
middleware (``st.App``):

* ``Referrer-Policy: no-referrer`` on every response: the page of a private link never sends its
  address (which carried ``?t=…`` on the first load) to anyone, proxy logs included;
* ``X-Frame-Options: SAMEORIGIN`` and ``Content-Security-Policy: frame-ancestors 'self'``: no other
  site can show Knotwork inside a frame (click-jacking); the app's own component frames still load;
* ``X-Content-Type-Options: nosniff``.

And one refusal Streamlit does not make: a WebSocket whose ``Origin`` is not the very address the
browser asked for (``Host``) is refused with 403 before Streamlit sees it.  Streamlit itself admits any
``localhost`` origin, whatever its port, so any page served from another local program could
otherwise talk to the dashboard.  Origins the practice listed in ``server.corsAllowedOrigins`` stay
allowed.  (Host names outside ``server.allowedHosts`` are refused by Streamlit, which ``knotwork
serve`` sets: DNS rebinding.)
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from streamlit import config

from dashboard.link_handoff import HANDOFFS, cookie_header

try:  # Streamlit's own check of ``server.allowedHosts`` (the WebSocket uses it too)
    from streamlit.web.server.starlette.starlette_websocket import is_host_allowed
except ImportError:  # pragma: no cover - an older Streamlit: only the configured names, exactly

    def is_host_allowed(host: str | None) -> bool:
        allowed = [h.strip().lower() for h in config.get_option("server.allowedHosts") or ()]
        return not allowed or (urlsplit(f"//{host or ''}").hostname or "") in allowed


SECURITY_HEADERS = (
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"content-security-policy", b"frame-ancestors 'self'"),
    (b"x-content-type-options", b"nosniff"),
)


def same_origin(origin: str | None, host: str | None, allowed_origins: tuple[str, ...] = ()) -> bool:
    """True when a WebSocket from ``origin`` to ``host`` may open: no Origin (not a browser),
    the same host and port, or an origin the practice allowed by name."""
    if origin is None:
        return True
    if origin.strip() in allowed_origins:
        return True
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:
        return False
    return bool(host) and netloc.lower() == host.strip().lower()


LINK_PARAM = "t"
# Streamlit's own routes (scripts, uploads, downloads, the WebSocket): never a link's page.
INTERNAL_SEGMENTS = frozenset({"_stcore", "static", "media", "component", "app"})


def link_redirect(scope) -> tuple[str, str] | None:
    """(Location, Set-Cookie) for a request that opens a private link; None for anything else.

    Only a page request (GET or HEAD, not one of Streamlit's internal routes) from an allowed host
    name with a ``t`` parameter qualifies.  The Location is relative to the requested path (its last
    segment), so it holds behind a proxy that serves Knotwork under a prefix; other parameters stay."""
    if scope.get("method") not in ("GET", "HEAD"):
        return None
    path = scope.get("path") or "/"
    if INTERNAL_SEGMENTS.intersection(path.split("/")):
        return None
    query = parse_qsl((scope.get("query_string") or b"").decode("latin-1"), keep_blank_values=True)
    tokens = [v for k, v in query if k == LINK_PARAM]
    if not tokens or not is_host_allowed(_header(scope, b"host")):
        return None
    rest = urlencode([(k, v) for k, v in query if k != LINK_PARAM])
    raw = (scope.get("raw_path") or path.encode()).decode("latin-1")
    location = "./" + raw.rsplit("/", 1)[-1] + (f"?{rest}" if rest else "")
    proto = (_header(scope, b"x-forwarded-proto") or scope.get("scheme") or "http").split(",")[0].strip().lower()
    return location, cookie_header(HANDOFFS.issue(tokens[0]), secure=proto == "https")


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class SecurityMiddleware:
    """Pure ASGI middleware (it must see WebSocket handshakes, which Starlette's HTTP middleware does not)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":
            allowed = tuple(o.strip() for o in config.get_option("server.corsAllowedOrigins") or ())
            if not same_origin(_header(scope, b"origin"), _header(scope, b"host"), allowed):
                await send({"type": "websocket.close", "code": 1008})  # before accept: the server answers 403
                return
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        redirect = link_redirect(scope)
        if redirect is not None:
            location, cookie = redirect
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [
                        (b"location", location.encode("latin-1")),
                        (b"set-cookie", cookie.encode("latin-1")),
                        (b"cache-control", b"no-store"),
                        (b"content-length", b"0"),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send_with_headers)
