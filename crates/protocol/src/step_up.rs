//! Step 10: step-up with a Conditional Access authentication context.
//!
//! An API action can require an authentication context (`c1`…`c99`). A token without it in
//! `acrs` gets a claims challenge (Microsoft Learn, "Claims challenges, claims requests and
//! client capabilities"): `401` with
//! `WWW-Authenticate: Bearer …, error="insufficient_claims", claims="<base64 of the claims>"`.
//! The client signs in again with those claims in the `claims` parameter, Entra applies the
//! context's policy (MFA, say) and puts the context in `acrs`. Every sign-in also declares that
//! the client can handle challenges: `xms_cc` `cp1` ([`CLIENT_CAPABILITIES`]).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};

/// The `claims` parameter of an ordinary sign-in: the client handles claims challenges.
pub const CLIENT_CAPABILITIES: &str = r#"{"access_token":{"xms_cc":{"values":["cp1"]}}}"#;

/// Whether `id` is an authentication context id: `c1` to `c99`.
pub fn is_context_id(id: &str) -> bool {
    id.strip_prefix('c')
        .and_then(|n| n.parse::<u8>().ok().filter(|n| (1..=99).contains(n)).map(|n| n.to_string() == id[1..]))
        .unwrap_or(false)
}

/// The claims a token must satisfy for `context`: `{"access_token":{"acrs":{"essential":true,"value":"c1"}}}`.
pub fn required_claims(context: &str) -> String {
    json!({ "access_token": { "acrs": { "essential": true, "value": context } } }).to_string()
}

/// The `WWW-Authenticate` value of a challenge for `context`, with the tenant's authorize
/// endpoint (`authorization_uri`), as Microsoft's guidance writes it.
pub fn challenge(authorize_endpoint: &str, context: &str) -> String {
    format!(
        "Bearer realm=\"\", authorization_uri=\"{authorize_endpoint}\", error=\"insufficient_claims\", claims=\"{}\"",
        STANDARD.encode(required_claims(context))
    )
}

/// Why a `WWW-Authenticate` header is not a claims challenge the SPA can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAChallenge {
    /// Another error (or none): not a step-up.
    OtherError,
    /// `insufficient_claims` without readable claims: what was found.
    Unreadable(String),
}

/// The claims (JSON text) a challenge asks for, from a `WWW-Authenticate` value.
pub fn read_challenge(header: &str) -> Result<String, NotAChallenge> {
    let parameter = |name: &str| {
        header.split(',').find_map(|part| {
            let part = part.trim().trim_start_matches("Bearer").trim();
            let (key, value) = part.split_once('=')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim().trim_matches('"').to_owned())
        })
    };
    if parameter("error").as_deref() != Some("insufficient_claims") {
        return Err(NotAChallenge::OtherError);
    }
    let encoded = parameter("claims").ok_or_else(|| NotAChallenge::Unreadable("no claims parameter".into()))?;
    // With its padding (Microsoft's examples) or without (MSAL's).
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .map_err(|e| NotAChallenge::Unreadable(format!("claims are not base64: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| NotAChallenge::Unreadable("claims are not UTF-8".into()))?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(_)) => Ok(text),
        _ => Err(NotAChallenge::Unreadable(format!("claims are not a JSON object: {text}"))),
    }
}

/// The `claims` parameter that answers `challenge` (the JSON a challenge asked for), with the
/// client capabilities added to its `access_token` member.
pub fn request_claims(challenge: &str) -> String {
    let mut claims: Value = serde_json::from_str(challenge).unwrap_or_else(|_| json!({}));
    if !claims.is_object() {
        claims = json!({});
    }
    let access_token = &mut claims["access_token"];
    if !access_token.is_object() {
        *access_token = json!({});
    }
    access_token["xms_cc"] = json!({ "values": ["cp1"] });
    claims.to_string()
}

/// The authentication contexts a `claims` request asks for in the access token (`acrs` with
/// `value` or `values`).
pub fn requested_contexts(claims: &str) -> Vec<String> {
    let Ok(claims) = serde_json::from_str::<Value>(claims) else { return Vec::new() };
    let acrs = &claims["access_token"]["acrs"];
    let mut contexts: Vec<String> = acrs["values"]
        .as_array()
        .map(|values| values.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    if let Some(value) = acrs["value"].as_str() {
        contexts.push(value.to_owned());
    }
    contexts.retain(|c| is_context_id(c));
    contexts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_is_microsofts_shape_and_reads_back() {
        let header = challenge("https://login.microsoftonline.com/t/oauth2/v2.0/authorize", "c1");
        // Microsoft's own example value for c1 (base64 of the claims JSON).
        assert!(header.ends_with(
            "error=\"insufficient_claims\", claims=\"eyJhY2Nlc3NfdG9rZW4iOnsiYWNycyI6eyJlc3NlbnRpYWwiOnRydWUsInZhbHVlIjoiYzEifX19\""
        ), "{header}");
        assert!(header.starts_with("Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/t/"));
        let claims = read_challenge(&header).unwrap();
        assert_eq!(claims, r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#);
        assert_eq!(requested_contexts(&request_claims(&claims)), ["c1"]);
        assert_eq!(
            request_claims(&claims),
            r#"{"access_token":{"acrs":{"essential":true,"value":"c1"},"xms_cc":{"values":["cp1"]}}}"#
        );
    }

    #[test]
    fn other_challenges_are_not_step_ups() {
        assert_eq!(read_challenge("Bearer error=\"invalid_token\""), Err(NotAChallenge::OtherError));
        assert_eq!(read_challenge("Bearer"), Err(NotAChallenge::OtherError));
        assert!(matches!(
            read_challenge("Bearer error=\"insufficient_claims\""),
            Err(NotAChallenge::Unreadable(why)) if why.contains("no claims")
        ));
        assert!(matches!(
            read_challenge("Bearer error=\"insufficient_claims\", claims=\"%%%\""),
            Err(NotAChallenge::Unreadable(why)) if why.contains("base64")
        ));
        // MSAL's own padding-less form reads too.
        let padless = STANDARD.encode(r#"{"access_token":{"acrs":{"essential":true,"value":"c2"}}}"#);
        let header = format!("Bearer error=\"insufficient_claims\", claims=\"{}\"", padless.trim_end_matches('='));
        assert_eq!(requested_contexts(&read_challenge(&header).unwrap()), ["c2"]);
    }

    #[test]
    fn context_ids_are_c1_to_c99() {
        for good in ["c1", "c9", "c10", "c99"] {
            assert!(is_context_id(good), "{good}");
        }
        for bad in ["c0", "c100", "c01", "C1", "c", "1", "c1 ", "cx"] {
            assert!(!is_context_id(bad), "{bad}");
        }
        assert_eq!(requested_contexts(CLIENT_CAPABILITIES), Vec::<String>::new());
        assert_eq!(requested_contexts(r#"{"access_token":{"acrs":{"values":["c3","c100"]}}}"#), ["c3"]);
    }
}
