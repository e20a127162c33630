//! The browser's own JSON, mapped to the protocol's types: what the SPA reads from Entra and
//! the API parses the way serde_json does on the host, and what it writes reads back.
#![cfg(target_arch = "wasm32")]

use channels_protocol::authorize::Account;
use channels_protocol::diagnostics::ObservedClaims;
use channels_protocol::jwt::unverified_payload;
use channels_protocol::token::{IdTokenClaims, TokenErrorBody, TokenResponse};
use channels_protocol::wire::{Me, SpaConfig};
use channels_spa::auth::session::StoredSession;
use channels_spa::browser::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn entra_and_api_answers_parse_as_serde_json_parses_them() {
    let samples = [
        // Entra's real answer has fields this app does not read (ext_expires_in): skipped.
        r#"{"token_type":"Bearer","scope":"s","expires_in":3599,"ext_expires_in":3599,"access_token":"a.b.c","refresh_token":"r","id_token":"i"}"#,
        r#"{"access_token":"a.b.c","token_type":"Bearer","expires_in":3599}"#,
    ];
    for sample in samples {
        let in_browser: TokenResponse = json::parse(sample).unwrap();
        let on_host: TokenResponse = serde_json::from_str(sample).unwrap();
        assert_eq!(format!("{in_browser:?}"), format!("{on_host:?}"));
        assert_eq!(in_browser.expires_in, 3599);
    }
    let error = r#"{"error":"invalid_grant","error_description":"AADSTS700084: The refresh token was issued to a single page app.","error_codes":[700084],"timestamp":"t","trace_id":"x","correlation_id":"y"}"#;
    assert_eq!(json::parse::<TokenErrorBody>(error).unwrap(), serde_json::from_str::<TokenErrorBody>(error).unwrap());
    // What the browser app does not use (the member record, the user's names, ids and groups)
    // is not in its `Me`, and the answer's is ignored.
    let me = r#"{"upn":"alice@contoso.example","name":"Alice","tenant_id":"t","object_id":"o","groups":["Dispatch"],"channels":["All Call"],"notice":{"code":"c","message":"m"},"member":{"roles":[],"preferences":{"theme":"dark"},"created_at":1,"last_seen_at":2,"provisioning":"created"}}"#;
    let parsed: Me = json::parse(me).unwrap();
    assert_eq!((parsed.channels, parsed.notice.unwrap().code), (vec!["All Call".to_owned()], "c".to_owned()));
    let config =
        r#"{"authority":"https://login.microsoftonline.com","tenant_id":"t","client_id":"c","api_scope":"api://c/S"}"#;
    assert_eq!(json::parse::<SpaConfig>(config).unwrap(), serde_json::from_str::<SpaConfig>(config).unwrap());
}

#[wasm_bindgen_test]
fn bad_json_is_refused_saying_what_was_expected() {
    assert_eq!(json::parse::<SpaConfig>("<html>").unwrap_err(), "expected JSON (found text that is not JSON)");
    let missing = json::parse::<SpaConfig>(r#"{"authority":"a"}"#).unwrap_err();
    assert!(missing.contains("tenant_id"), "{missing}");
    let fractional = json::parse::<TokenResponse>(r#"{"access_token":"a","token_type":"Bearer","expires_in":1.5}"#);
    assert_eq!(fractional.unwrap_err(), "expires_in: expected a whole number (found a fraction, or one too large)");
    let text = json::parse::<TokenResponse>(r#"{"access_token":"a","token_type":"Bearer","expires_in":"soon"}"#);
    assert_eq!(text.unwrap_err(), "expires_in: expected u64 (found another type)");
    let negative = json::parse::<TokenResponse>(r#"{"access_token":"a","token_type":"Bearer","expires_in":-1}"#);
    assert_eq!(negative.unwrap_err(), "expires_in: expected a number of 0 or more (found a negative one)");
    let codes = json::parse::<channels_protocol::token::TokenErrorBody>(
        r#"{"error":"e","error_description":"d","error_codes":7}"#,
    );
    assert_eq!(codes.unwrap_err(), "error_codes: expected a sequence (found another type)");
    // Where the error is, through objects and arrays: the path to the value.
    let group = json::parse::<ObservedClaims>(r#"{"aud":"a","groups":["Dispatch",7]}"#);
    assert_eq!(group.unwrap_err(), "groups[1]: expected a string (found another type)");
    let nested = json::parse::<Me>(
        r#"{"upn":"u","name":"n","tenant_id":"t","object_id":"o","groups":[],"channels":[],"notice":{"code":1,"message":"m"}}"#,
    );
    assert_eq!(nested.unwrap_err(), "notice.code: expected a string (found another type)");
    let incomplete = json::parse::<Me>(
        r#"{"upn":"u","name":"n","tenant_id":"t","object_id":"o","groups":[],"channels":[],"notice":{"message":"m"}}"#,
    );
    assert_eq!(incomplete.unwrap_err(), "notice: missing field `code`", "a missing field is the object's");
    let in_items = json::parse::<Vec<channels_protocol::wire::Notice>>(r#"[{"code":"c","message":"m"},{"code":"c"}]"#);
    assert_eq!(in_items.unwrap_err(), "[1]: missing field `message`");
    let not_an_object = json::parse::<SpaConfig>("true").unwrap_err();
    assert!(not_an_object.starts_with("expected struct SpaConfig"), "{not_an_object}");
}

#[wasm_bindgen_test]
fn what_is_written_reads_back_and_is_the_text_serde_json_writes() {
    let awkward = "Zoë \"Z\" \\ \u{1}\u{8}\u{c}\n\r\t/ \u{7f} 😀";
    let account = Account { tid: "t".into(), oid: "o".into(), username: "z@x".into() };
    let stored =
        StoredSession { refresh_token: None, name: awkward.into(), account, client_id: "c".into(), logout_id: None };
    let text = json::stringify(&stored).unwrap();
    assert_eq!(text, serde_json::to_string(&stored).unwrap());
    let back: StoredSession = json::parse(&text).unwrap();
    assert_eq!((back.name.as_str(), back.refresh_token.is_none()), (awkward, true));
    let rotated = StoredSession { refresh_token: Some(channels_protocol::secret::RefreshToken::new("r")), ..stored };
    assert_eq!(json::stringify(&rotated).unwrap(), serde_json::to_string(&rotated).unwrap());
    // The front-channel logout's session id is kept with the session, and read back.
    let logout_id = channels_protocol::logout::LogoutId { iss: "https://i/t/v2.0".into(), sid: "s-1".into() };
    let named = StoredSession { logout_id: Some(logout_id.clone()), ..rotated };
    let text = json::stringify(&named).unwrap();
    assert_eq!(text, serde_json::to_string(&named).unwrap());
    assert_eq!(json::parse::<StoredSession>(&text).unwrap().logout_id, Some(logout_id));
    let older: StoredSession = json::parse(&serde_json::to_string(&signed_in_before_logout_ids()).unwrap()).unwrap();
    assert_eq!(older.logout_id, None, "a session stored before logout ids loads without one");
    assert_eq!(json::stringify(&vec![1u64, 2]).unwrap(), "[1,2]");
    assert_eq!(json::stringify(&1.5f64), None, "no floats in what this app stores");
}

#[wasm_bindgen_test]
fn enums_and_tuples_are_written_as_they_are_read_and_variants_with_data_neither() {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    enum Prompt {
        Default,
        SelectAccount,
        None(String),
    }
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Pair(u64, String);
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Record {
        prompt: Prompt,
        pair: (u64, String),
        named_pair: Pair,
    }
    let record = Record { prompt: Prompt::SelectAccount, pair: (7, "x".into()), named_pair: Pair(8, "y".into()) };
    let text = json::stringify(&record).unwrap();
    assert_eq!(text, serde_json::to_string(&record).unwrap());
    assert_eq!(json::parse::<Record>(&text).unwrap(), record);
    assert_eq!(json::parse::<Prompt>(r#""Default""#).unwrap(), Prompt::Default);
    assert_eq!(
        json::parse::<Prompt>(r#""Maybe""#).unwrap_err(),
        serde_json::from_str::<Prompt>(r#""Maybe""#).unwrap_err().to_string().split(" at line").next().unwrap()
    );
    // A variant with data is refused both ways, never written in a shape that does not read back.
    let with_data = Prompt::None("alice".into());
    assert_eq!(json::stringify(&with_data), None);
    let written_by_serde_json = serde_json::to_string(&with_data).unwrap();
    assert_eq!(json::parse::<Prompt>(&written_by_serde_json).unwrap_err(), "expected enum Prompt (found another type)");
}

/// A token with these claims, as Entra shapes it (the signature is not read here).
fn token(claims: serde_json::Value) -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let part = |json: String| URL_SAFE_NO_PAD.encode(json);
    part(r#"{"typ":"JWT","alg":"RS256","kid":"k"}"#.into()) + "." + &part(claims.to_string()) + ".c2ln"
}

#[wasm_bindgen_test]
fn token_claims_are_read_and_shown_with_opaque_values_masked() {
    let access = token(serde_json::json!({
        "aud": "c", "scp": "UserProfile.ReadWrite", "ver": "2.0", "groups": ["Dispatch"],
        "sub": "pairwise-subject", "uti": "unique-token-id", "name": "Alice", "exp": 1700000000
    }));
    let payload = unverified_payload(&access).unwrap();
    let observed: ObservedClaims = json::parse(std::str::from_utf8(&payload).unwrap()).unwrap();
    assert_eq!((observed.aud.as_str(), observed.groups.len(), observed.upn), ("c", 1, None));
    let shown = json::masked_claims(&payload, &channels_protocol::diagnostics::MASKED_CLAIMS).unwrap();
    assert!(shown.contains("\"sub\": \"•••• (masked)\"") && shown.contains("\"uti\": \"•••• (masked)\""), "{shown}");
    assert!(!shown.contains("pairwise-subject") && !shown.contains("unique-token-id"));
    assert!(shown.contains("\"name\": \"Alice\"") && shown.contains("\"exp\": 1700000000"), "{shown}");
    assert_eq!(json::masked_claims(b"[1,2]", &["sub"]), None, "a payload must be an object");

    let id = token(serde_json::json!({ "iss": "i", "aud": "c", "exp": 1700000000, "nonce": "n" }));
    let claims: IdTokenClaims = json::parse(std::str::from_utf8(&unverified_payload(&id).unwrap()).unwrap()).unwrap();
    assert_eq!((claims.exp, claims.nonce.as_deref()), (1700000000, Some("n")));
}

/// A session as stored before sessions kept their logout id.
fn signed_in_before_logout_ids() -> serde_json::Value {
    serde_json::json!({
        "refresh_token": "r",
        "name": "n",
        "account": { "tid": "t", "oid": "o", "username": "u" },
        "client_id": "c"
    })
}
