"""Session-state keys shared by more than one module (one place, so no module imports a page for a name)."""

SHARE_KEY = "kw_share_token"  # the share-link token of a client's session (never shown)
PRESENT_KEY = "kw_present_client"  # the client shown in "Show to client" mode
AUTH_KEY = "kw_therapist_ok"  # this session passed the therapist password
CLIENT_KEY = "kw_client"  # the client last chosen on any page: the navigation keeps it
