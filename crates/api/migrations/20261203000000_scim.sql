-- SCIM 2.0 provisioning from Entra. A provisioned user is a member keyed by (tenant_id,
-- object_id) like any other: Entra's externalId is the user's object id. `disabled_at` is set
-- while SCIM says `active: false`; `scim` holds the User resource as Entra last sent it (JSON),
-- NULL for members who only ever signed in. The same SQL runs on SQLite and PostgreSQL.
ALTER TABLE members ADD COLUMN disabled_at BIGINT;
ALTER TABLE members ADD COLUMN scim TEXT;
ALTER TABLE members ADD COLUMN scim_updated_at BIGINT;

-- Groups Entra provisions, per tenant; `resource` is the Group as sent, without its members.
CREATE TABLE scim_groups (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    external_id  TEXT,
    display_name TEXT NOT NULL,
    display_key  TEXT NOT NULL,
    resource     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
-- Entra matches groups by displayName, and asks that it be unique.
CREATE UNIQUE INDEX scim_groups_display ON scim_groups (tenant_id, display_key);
CREATE INDEX scim_groups_external ON scim_groups (tenant_id, external_id);

-- Group memberships: the member's object id (its SCIM id).
CREATE TABLE scim_memberships (
    tenant_id TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    object_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, group_id, object_id)
);
CREATE INDEX scim_memberships_member ON scim_memberships (tenant_id, object_id);

-- Bearer tokens of the provisioning service: only a SHA-256 of each secret is kept. A token
-- belongs to one tenant, fixed when it is made; several may be live (rotation), each revocable.
CREATE TABLE scim_tokens (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    label      TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
