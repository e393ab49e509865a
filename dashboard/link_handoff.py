"""How a private link's token gets from the address bar into the client's session without staying in
the tab's history.

A link is ``<base>/?t=<token>``.  Had Streamlit read ``?t=`` itself, the token would stay in the tab's
history: Streamlit can only take it out of the address bar by *adding* a history entry, so "Back"
(or the browser's history list) still holds the address with the token.  A script calling
``history.replaceState`` from the page would race Streamlit's own history handling and run inside a
component frame, so it is not something to rely on.

Instead the HTTP layer (:class:`dashboard.web_guard.SecurityMiddleware`) answers the link itself,
before any page is drawn:

1. ``GET /?t=TOKEN`` → ``303 See Other`` to ``/`` with a **one-time code** in a cookie
   (``HttpOnly``, ``SameSite=Strict``, ``Path=/``, a few minutes' ``Max-Age``; ``Secure`` over HTTPS).
   A redirected navigation makes one history entry, with the address it ends at: the address with
   the token is never an entry of the tab.  The code is random and means nothing outside this
   process; the token itself stays on the server (:data:`HANDOFFS`, process memory) and is never
   written to a cookie, a log or a later request.
2. The page at ``/`` opens its WebSocket (same site, so the Strict cookie goes with it even when the
   link was opened from a mail or messaging app); :func:`dashboard.access.gate` reads the code from
   ``st.context.cookies`` and :meth:`HandOffs.take` swaps it for the token, **once**.  From then on
   the session works exactly as before (the token in ``st.session_state``, resolved again on every run).

A code that was used, has expired or was never issued gives nothing: a reload or a second tab is a new
session without a link, as it always was.  The store holds at most :data:`MAX_PENDING` codes, so a
flood of made-up links cannot grow the server's memory.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict

HANDOFF_COOKIE = "kw_link"
HANDOFF_TTL_S = 300  # how long a code waits for its page to connect (a slow phone on a busy server)
MAX_PENDING = 1000
MAX_TOKEN_CHARS = 100  # a real token is 43 characters; anything longer is only kept as "not valid"


class HandOffs:
    """One-time codes waiting for their page (thread-safe: the server's event loop adds, script
    threads take)."""

    def __init__(self, ttl_s: float = HANDOFF_TTL_S, max_pending: int = MAX_PENDING, clock=time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_pending = max_pending
        self._clock = clock
        self._lock = threading.Lock()
        self._pending: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def issue(self, token: str) -> str:
        """A fresh code standing for ``token`` until it is taken or :attr:`ttl_s` has passed."""
        code = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._drop_expired(now)
            while len(self._pending) >= self.max_pending:
                self._pending.popitem(last=False)  # the oldest waiting code goes first
            self._pending[code] = (str(token)[:MAX_TOKEN_CHARS], now + self.ttl_s)
        return code

    def take(self, code: object) -> str | None:
        """The token ``code`` stands for, once; None for a used, expired or unknown code."""
        if not isinstance(code, str) or not code:
            return None
        with self._lock:
            self._drop_expired(self._clock())
            entry = self._pending.pop(code, None)
        return entry[0] if entry else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def _drop_expired(self, now: float) -> None:
        for code in [c for c, (_, deadline) in self._pending.items() if deadline <= now]:
            del self._pending[code]


# The server's one store: the middleware and the app run in the same process.
HANDOFFS = HandOffs()


def cookie_header(code: str, secure: bool) -> str:
    """The ``Set-Cookie`` value that carries ``code`` to the page the redirect leads to."""
    flags = f"{HANDOFF_COOKIE}={code}; Max-Age={HANDOFF_TTL_S}; Path=/; HttpOnly; SameSite=Strict"
    return flags + ("; Secure" if secure else "")
