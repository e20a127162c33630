-- A pre-created member belongs to a tenant (its tenant_id is set, its object_id is not) and is
-- linked only by a sign-in of that tenant: one pending UPN per tenant. Members pre-created
-- before this (without a tenant) stay in the table but are never linked; an admin creates them
-- again for their tenant.
DROP INDEX members_pre_created;
CREATE UNIQUE INDEX members_pre_created ON members (tenant_id, upn_key) WHERE object_id IS NULL;
