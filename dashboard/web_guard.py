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

from urllib.parse import urlsplit

from streamlit import config

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

        await self.app(scope, receive, send_with_headers)
