-- Knotwork schema, version 2: private share links for clients (issue 5).
--
-- A link carries an opaque random token (secrets.token_urlsafe(32), 256 bits), never a
-- client id.  The token itself is never stored: only HMAC-SHA256(pepper, token), where the
-- pepper is a random per-database secret kept in meta.secrets (written by pipelines/sharing/links.py
-- with Python's `secrets`, on first use).  token_prefix (the first 8 of 43 characters) lets
-- the therapist revoke a link by what they can see; it leaves 208 unguessable bits.
-- A link resolves only while it is not revoked and now < expires_at (pipelines/sharing/links.py).

CREATE TABLE meta.secrets (
    name       VARCHAR NOT NULL,   -- e.g. 'share_pepper'
    value      VARCHAR NOT NULL,   -- hex
    created_at TIMESTAMP NOT NULL
);

CREATE SEQUENCE meta.share_link_id_seq START 1;

CREATE TABLE meta.share_links (
    link_id      BIGINT NOT NULL,
    client_id    VARCHAR NOT NULL,
    token_hash   VARCHAR NOT NULL,   -- hex HMAC-SHA256(pepper, token)
    token_prefix VARCHAR NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    expires_at   TIMESTAMP NOT NULL,
    revoked      BOOLEAN NOT NULL DEFAULT false,
    revoked_at   TIMESTAMP
);
