-- The userName Entra provisioned, lower-cased: what `userName eq "…"` matches. A sign-in
-- rewrites `upn_key` from its token (a guest's `preferred_username`, a renamed UPN); Entra's
-- next cycle must still find the user it provisioned. NULL for members who only signed in.
ALTER TABLE members ADD COLUMN scim_user_key TEXT;
UPDATE members SET scim_user_key = upn_key WHERE scim IS NOT NULL;
-- Entra looks every user up by userName in each cycle.
CREATE INDEX members_scim_user ON members (tenant_id, scim_user_key);
CREATE INDEX members_upn ON members (tenant_id, upn_key);
