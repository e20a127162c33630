-- Members, keyed by (tenant_id, object_id): Entra's immutable identity. A member an admin
-- pre-creates by UPN has no object id until its first sign-in links it. The same SQL runs on
-- SQLite and PostgreSQL.
CREATE TABLE members (
    tenant_id    TEXT,
    object_id    TEXT,
    upn          TEXT NOT NULL,
    upn_key      TEXT NOT NULL,
    display_name TEXT NOT NULL,
    roles        TEXT NOT NULL,
    preferences  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT
);

CREATE UNIQUE INDEX members_identity ON members (tenant_id, object_id);
CREATE UNIQUE INDEX members_pre_created ON members (upn_key) WHERE object_id IS NULL;
