//! Token minting in Entra's shapes (shared/ENTRA.md §3).
//!
//! The *resource's* registration decides the access token: v1 or v2 by
//! `requestedAccessTokenVersion`, its optional claims, its groups. A Microsoft Graph token has
//! Graph's audience and a header `nonce` that makes it unverifiable by anyone but Graph. ID
//! tokens follow the *client's* registration.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use channels_protocol::claims::AccessTokenClaims;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use channels_protocol::cloud::Cloud;

use crate::directory::{
    AppRegistration, GroupFormat, GroupsClaim, OptionalClaims, Tenant, TokenVersion, User, GRAPH_APP_ID,
};
use crate::grant::{random_text, Authorization, Resource};
use crate::state::Emulator;

/// From this many groups on, an implicit-grant token carries `hasgroups` instead (Entra's
/// access token claims reference: "currently six or more groups").
pub const IMPLICIT_GROUPS_LIMIT: usize = 6;

/// An access token with what the token response says of it.
pub struct AccessToken {
    /// The JWT.
    pub token: String,
    /// Its expiry.
    pub expires_at: u64,
    /// The response's `scope`: the scopes with their resource prefix (Graph's bare).
    pub scope: String,
}

/// Entra's `sub` is pairwise: the same user has a different subject in every app.
fn pairwise_subject(oid: &str, app_id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{oid}:{app_id}")))
}

/// The optional claims `claims` asks for, added to `out`.
fn add_optional(out: &mut Value, claims: OptionalClaims, user: &User) {
    let guest = user.upn.contains("#EXT#");
    if claims.upn && (!guest || claims.guest_upn) {
        out["upn"] = user.upn.clone().into();
    }
    if claims.email {
        if let Some(email) = &user.email {
            out["email"] = email.clone().into();
        }
    }
    if claims.given_name {
        if let Some(given) = &user.given_name {
            out["given_name"] = given.clone().into();
        }
    }
    if claims.family_name {
        if let Some(family) = &user.family_name {
            out["family_name"] = family.clone().into();
        }
    }
}

impl Emulator {
    /// Mints the access token `authorization` calls for.
    pub fn access_token(&self, authorization: &Authorization, now: u64) -> AccessToken {
        let tenant = self.directory().tenant_by_id(&authorization.tenant_id).expect("grants name served tenants");
        let user = tenant.user_by_oid(&authorization.user_oid).expect("grants name known users");
        match &authorization.resource {
            Resource::Api { app_id, requested_as } => {
                let api = self.directory().resource(app_id).expect("grants name registered APIs");
                let claims = self.api_claims(
                    tenant,
                    &authorization.client_id,
                    api,
                    requested_as,
                    user,
                    &authorization.scopes,
                    now,
                );
                let mut claims = claims;
                if !authorization.acrs.is_empty() {
                    claims["acrs"] = authorization.acrs.clone().into();
                }
                let emitted = api.group_format.claim();
                let many = |claims: &Value| {
                    claims.get("_claim_names").is_some()
                        || claims[emitted].as_array().is_some_and(|groups| groups.len() >= IMPLICIT_GROUPS_LIMIT)
                };
                if authorization.implicit && many(&claims) {
                    if let Some(claims) = claims.as_object_mut() {
                        for overflowing in [emitted, "_claim_names", "_claim_sources"] {
                            claims.remove(overflowing);
                        }
                    }
                    claims["hasgroups"] = true.into();
                }
                let key = self.key();
                let token = match api.token_version {
                    TokenVersion::V1 => key.sign_with_header(&key.v1_header(), &claims),
                    TokenVersion::V2 => key.sign(&claims),
                };
                AccessToken {
                    token,
                    expires_at: claims["exp"].as_u64().expect("exp is set"),
                    scope: authorization
                        .scopes
                        .iter()
                        .map(|s| format!("{requested_as}/{s}"))
                        .collect::<Vec<_>>()
                        .join(" "),
                }
            }
            Resource::Graph => {
                let claims = self.graph_claims(tenant, &authorization.client_id, user, &authorization.scopes, now);
                AccessToken {
                    token: self.key().sign_graph(&claims),
                    expires_at: claims["exp"].as_u64().expect("exp is set"),
                    scope: authorization.scopes.join(" "),
                }
            }
        }
    }

    /// The claims of a v2 access token for `api`'s own API, as Entra would issue them to
    /// `user` signing in to `api` itself. Tests change one field and sign the result with
    /// [`crate::keys::SigningKey::sign`].
    pub fn access_token_claims(
        &self,
        api: &AppRegistration,
        user: &User,
        scopes: &[String],
        now: u64,
    ) -> AccessTokenClaims {
        let tenant = self
            .directory()
            .tenants
            .iter()
            .find(|tenant| tenant.user_by_oid(&user.oid).is_some())
            .unwrap_or_else(|| self.tenant());
        let requested_as = api.identifier_uris.first().cloned().unwrap_or_else(|| api.app_id.clone());
        let claims = self.api_claims(tenant, &api.app_id, api, &requested_as, user, scopes, now);
        serde_json::from_value(claims).expect("the emulator's claims fit AccessTokenClaims")
    }

    /// Claims of an access token for a registered API, v1 or v2 by the API's manifest.
    #[allow(clippy::too_many_arguments)]
    fn api_claims(
        &self,
        tenant: &Tenant,
        client_id: &str,
        api: &AppRegistration,
        requested_as: &str,
        user: &User,
        scopes: &[String],
        now: u64,
    ) -> Value {
        // Entra varies access token lifetimes between 60 and 90 minutes, unless a token
        // lifetime policy fixes them.
        let lifetime = tenant.access_token_lifetime.unwrap_or_else(|| rand::thread_rng().gen_range(3600..5400));
        let mut claims = json!({
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "name": user.name,
            "oid": user.oid,
            "scp": scopes.join(" "),
            "sub": pairwise_subject(&user.oid, client_id),
            "tid": tenant.id,
            // Entra's unique token identifier: no two tokens are the same bytes.
            "uti": random_text(16),
        });
        match api.token_version {
            TokenVersion::V1 => {
                claims["aud"] = requested_as.into();
                claims["iss"] = self.v1_issuer_of(&tenant.id).into();
                claims["appid"] = client_id.into();
                claims["appidacr"] = "0".into();
                claims["unique_name"] = user.upn.clone().into();
                claims["ver"] = "1.0".into();
                // v1 tokens carry upn, given_name and family_name by default.
                let defaults =
                    OptionalClaims { upn: true, given_name: true, family_name: true, ..api.access_token_claims };
                add_optional(&mut claims, defaults, user);
            }
            TokenVersion::V2 => {
                claims["aud"] = api.app_id.clone().into();
                claims["iss"] = self.issuer_of(&tenant.id).into();
                claims["azp"] = client_id.into();
                claims["azpacr"] = "0".into();
                claims["preferred_username"] = user.upn.clone().into();
                claims["ver"] = "2.0".into();
                add_optional(&mut claims, api.access_token_claims, user);
            }
        }
        let groups_claim = api.group_format.claim();
        // External ID has no on-premises groups and no group names in tokens: object ids only.
        let object_ids;
        let api = if self.directory().cloud == Cloud::ExternalId {
            let format = GroupFormat { emit_as_roles: api.group_format.emit_as_roles, ..GroupFormat::default() };
            object_ids = AppRegistration { group_format: format, ..api.clone() };
            &object_ids
        } else {
            api
        };
        match tenant.groups_claim(api, user) {
            GroupsClaim::Absent => {}
            GroupsClaim::Groups(groups) => claims[groups_claim] = groups.into(),
            GroupsClaim::Overage => {
                claims["_claim_names"] = json!({ "groups": "src1" });
                claims["_claim_sources"] = json!({ "src1": { "endpoint": format!(
                    "https://graph.windows.net/{}/users/{}/getMemberObjects", tenant.id, user.oid
                ) } });
            }
        }
        claims
    }

    /// Claims of a Microsoft Graph access token: always v1-shaped, Graph's audience.
    fn graph_claims(&self, tenant: &Tenant, client_id: &str, user: &User, scopes: &[String], now: u64) -> Value {
        let lifetime = rand::thread_rng().gen_range(3600..5400);
        // Graph's application id in the global cloud; another cloud's Graph URL there.
        let audience = match self.directory().cloud {
            Cloud::Global => GRAPH_APP_ID,
            cloud => cloud.graph_audience(),
        };
        json!({
            "aud": audience,
            "iss": self.v1_issuer_of(&tenant.id),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": client_id,
            "appidacr": "0",
            "name": user.name,
            "oid": user.oid,
            "scp": scopes.join(" "),
            "sub": pairwise_subject(&user.oid, GRAPH_APP_ID),
            "tid": tenant.id,
            "unique_name": user.upn,
            "upn": user.upn,
            "ver": "1.0",
        })
    }

    /// A v2 ID token for `client`, with the request's nonce and the client's optional claims
    /// (`sid`, the browser session's id, when the client asks for it), and the `at_hash` of the
    /// access token issued beside it at `/authorize` (the implicit grant).
    #[allow(clippy::too_many_arguments)]
    pub fn id_token(
        &self,
        tenant: &Tenant,
        client: &AppRegistration,
        user: &User,
        nonce: Option<&str>,
        sid: Option<&str>,
        at_hash: Option<String>,
        now: u64,
    ) -> String {
        let mut claims = json!({
            "ver": "2.0",
            "iss": self.issuer_of(&tenant.id),
            "sub": pairwise_subject(&user.oid, &client.app_id),
            "aud": client.app_id,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": user.name,
            "preferred_username": user.upn,
            "oid": user.oid,
            "tid": tenant.id,
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        if let Some(at_hash) = at_hash {
            claims["at_hash"] = at_hash.into();
        }
        add_optional(&mut claims, client.id_token_claims, user);
        if let Some(sid) = sid.filter(|_| client.id_token_claims.sid) {
            claims["sid"] = sid.into();
        }
        self.key().sign(&claims)
    }
}
