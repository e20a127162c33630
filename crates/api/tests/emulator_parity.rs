//! The emulator's discovery and key documents against Entra's real ones
//! (tests/fixtures/entra-common, recorded from login.microsoftonline.com/common): the same
//! fields, and both read by the same code the API uses in production ([`KeyCache`]).

use std::collections::BTreeSet;

use channels_api::auth::keys::{http_client, KeyCache};
use entra_emulator::directory::demo;
use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;
use tokio::net::TcpListener;

const REAL_METADATA: &str = include_str!("fixtures/entra-common/openid-configuration.json");
const REAL_KEYS: &str = include_str!("fixtures/entra-common/keys.json");

fn fields(document: &Value) -> BTreeSet<String> {
    document.as_object().expect("a JSON object").keys().cloned().collect()
}

async fn get(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn emulator_documents_have_entras_fields_and_parse_with_the_apis_code() {
    let emulator = entra_emulator::spawn(
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        demo::directory(),
        entra_emulator::system_clock(),
    )
    .await
    .unwrap();
    let real_metadata: Value = serde_json::from_str(REAL_METADATA).unwrap();
    let real_keys: Value = serde_json::from_str(REAL_KEYS).unwrap();

    for tenant in ["common", demo::TENANT_ID] {
        let metadata_url = format!("{}/{tenant}/v2.0/.well-known/openid-configuration", emulator.origin());
        let metadata = get(&metadata_url).await;
        assert_eq!(fields(&metadata), fields(&real_metadata), "metadata fields at {tenant}");
        let keys = get(metadata["jwks_uri"].as_str().unwrap()).await;
        for key in keys["keys"].as_array().unwrap() {
            assert_eq!(fields(key), fields(&real_keys["keys"][0]), "JWK fields at {tenant}");
        }
        // The API's own loader follows the metadata to the keys, as it does against Entra.
        let cache = KeyCache::from_authority(emulator.origin(), tenant, Default::default(), http_client(&[]));
        assert_eq!(cache.ensure_loaded().await.unwrap(), keys["keys"].as_array().unwrap().len());
    }
    let common = get(&format!("{}/common/v2.0/.well-known/openid-configuration", emulator.origin())).await;
    assert_eq!(
        common["issuer"].as_str().unwrap().replace(emulator.origin(), "https://login.microsoftonline.com"),
        real_metadata["issuer"],
        "the same {{tenantid}} template"
    );
    // The real key set goes through the same parser.
    let real: JwkSet = serde_json::from_value(real_keys).unwrap();
    let cache = KeyCache::fixed(&real);
    for jwk in &real.keys {
        assert!(cache.key(jwk.common.key_id.as_deref().unwrap()).await.is_ok());
    }
}
