-- A provisioned group's externalId (Entra's object id) is what a channel's object-id reference
-- trusts: unique within a tenant, and a GUID kept lower-case so that the same id in another case
-- is the same group. The same SQL runs on SQLite and PostgreSQL.
UPDATE scim_groups SET external_id = LOWER(external_id)
    WHERE external_id LIKE '________-____-____-____-____________';
DROP INDEX scim_groups_external;
CREATE UNIQUE INDEX scim_groups_external ON scim_groups (tenant_id, external_id) WHERE external_id IS NOT NULL;
