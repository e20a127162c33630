//! JSON, read and written by the browser's own `JSON` object and mapped to the protocol's serde
//! types by serde-wasm-bindgen. A JSON parser compiled into the wasm was the largest single
//! part of the SPA's download; the browser has a fast one already.

use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// Parses `text` as a `T`; the error says what was expected and what was wrong.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "expected JSON (found text that is not JSON)".to_owned())?;
    serde_wasm_bindgen::from_value(value).map_err(|error| error.to_string())
}

/// `value` as JSON text, the way `serde_json` would write it (`None` as `null`).
pub fn stringify<T: Serialize>(value: &T) -> String {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .ok()
        .and_then(|value| js_sys::JSON::stringify(&value).ok())
        .map(String::from)
        .unwrap_or_default()
}

/// A JWT payload, indented for reading, with the values of `masked` claims replaced; `None`
/// when the payload is not a JSON object.
pub fn masked_claims(payload: &[u8], masked: &[&str]) -> Option<String> {
    let value = js_sys::JSON::parse(std::str::from_utf8(payload).ok()?).ok()?;
    if !value.is_object() || js_sys::Array::is_array(&value) {
        return None;
    }
    for name in masked {
        let name = JsValue::from_str(name);
        if js_sys::Reflect::has(&value, &name).unwrap_or(false) {
            js_sys::Reflect::set(&value, &name, &JsValue::from_str("•••• (masked)")).ok()?;
        }
    }
    js_sys::JSON::stringify_with_replacer_and_space(&value, &JsValue::NULL, &JsValue::from_f64(2.0))
        .ok()
        .map(String::from)
}
