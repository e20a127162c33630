//! The issuing at the end of a granted sign-in: a code (kept in [`crate::grant`] for the token
//! endpoint), or, in the implicit grant, the tokens themselves. The result says what was
//! issued ([`Issued`]), so that the SSO session can record the app it was issued to; it
//! becomes the redirect back to the app.

use axum::response::Response;
use channels_protocol::secret::AccessToken as AccessTokenSecret;
use channels_protocol::token::access_token_hash;

use super::request::{Answer, AuthorizeParams, Checked};
use crate::directory::{Tenant, User};
use crate::error::answer;
use crate::grant::{Authorization, CodeGrant, Resource};
use crate::mint::AccessToken;
use crate::state::Emulator;

/// What a granted authorize request issued.
pub enum Issued {
    /// An authorization code (`response_type=code`), to redeem at the token endpoint.
    Code(String),
    /// The implicit grant's tokens: no refresh token (`offline_access` is ignored).
    Implicit {
        /// The access token and its lifetime in seconds, when `token` was asked.
        access: Option<(AccessToken, u64)>,
        /// The ID token, when `id_token` was asked.
        id_token: Option<String>,
    },
}

/// Issues what `checked` asks for to `user`, in the browser session `sid`, with the
/// authentication contexts `acrs` satisfied.
pub fn issue(
    emulator: &Emulator,
    checked: &Checked<'_>,
    params: &AuthorizeParams,
    tenant: &Tenant,
    user: &User,
    sid: &str,
    acrs: Vec<String>,
) -> Issued {
    let client = checked.client;
    let resource = checked.requested.first().map_or(Resource::Graph, |p| p.resource.clone());
    let scopes: Vec<String> = if checked.requested.is_empty() {
        checked.oidc.iter().filter(|s| *s != "offline_access").cloned().collect()
    } else {
        checked.requested.iter().filter(|p| p.resource == resource).map(|p| p.value.clone()).collect()
    };
    let authorization = Authorization {
        tenant_id: tenant.id.clone(),
        client_id: client.app_id.clone(),
        user_oid: user.oid.clone(),
        resource,
        scopes,
        acrs,
        implicit: matches!(checked.answer, Answer::Implicit { .. }),
    };
    let now = emulator.now();
    match checked.answer {
        Answer::Code => Issued::Code(emulator.grants().issue_code(CodeGrant {
            authorization,
            redirect_uri: checked.redirect_uri.clone(),
            platform: checked.platform,
            challenge: checked.challenge.clone(),
            openid: checked.has("openid"),
            offline_access: checked.has("offline_access"),
            nonce: params.nonce.clone(),
            sid: sid.to_owned(),
            issued_at: now,
            redeemed: false,
        })),
        // The ID token's `at_hash` binds it to the access token issued beside it.
        Answer::Implicit { id_token, token } => {
            let access = token.then(|| emulator.access_token(&authorization, now));
            let id_token = id_token.then(|| {
                let at_hash =
                    access.as_ref().map(|access| access_token_hash(&AccessTokenSecret::new(access.token.clone())));
                emulator.id_token(tenant, client, user, params.nonce.as_deref(), Some(sid), at_hash, now)
            });
            let access = access.map(|access| {
                let expires_in = access.expires_at - now;
                (access, expires_in)
            });
            Issued::Implicit { access, id_token }
        }
    }
}

impl Issued {
    /// The redirect back to the app with what was issued, the request's `state` and the
    /// session's `session_state` (`sid`), in the request's response mode.
    pub fn into_redirect(self, checked: &Checked<'_>, state: Option<&str>, sid: &str) -> Response {
        let mut response = form_urlencoded::Serializer::new(String::new());
        match self {
            Self::Code(code) => {
                response.append_pair("code", &code);
            }
            Self::Implicit { access, id_token } => {
                if let Some((access, expires_in)) = access {
                    response
                        .append_pair("access_token", &access.token)
                        .append_pair("token_type", "Bearer")
                        .append_pair("expires_in", &expires_in.to_string())
                        .append_pair("scope", &access.scope);
                }
                if let Some(id_token) = id_token {
                    response.append_pair("id_token", &id_token);
                }
            }
        }
        if let Some(state) = state {
            response.append_pair("state", state);
        }
        response.append_pair("session_state", sid);
        answer(&checked.redirect_uri, &response.finish(), checked.mode)
    }
}
