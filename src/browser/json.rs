//! JSON, read and written by the browser's own `JSON` object (no JSON parser in the wasm: it
//! was the largest single part of the SPA's download), mapped to the protocol's serde types.
//!
//! Writing goes through serde-wasm-bindgen. Reading goes through [`Value`], a serde
//! `Deserializer` over a parsed `JsValue`, written here because serde-wasm-bindgen's errors use
//! serde's default messages, whose "invalid type: floating point `1.5`" links Rust's whole
//! float formatting into the wasm (about 13 KB before compression, measured with twiggy).
//! JSON from Entra and the API carries whole numbers only (seconds, AADSTS codes), and our
//! messages name what was expected without echoing the value.

use std::fmt;

use js_sys::{Array, Object};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

/// Parses `text` as a `T`; the error says what was expected.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "expected JSON (found text that is not JSON)".to_owned())?;
    T::deserialize(Value(value)).map_err(|Error(message)| message)
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
    if !value.is_object() || Array::is_array(&value) {
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

/// Why a parsed JSON value is not the type asked for.
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self(message.to_string())
    }

    fn invalid_type(_found: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self("expected ".to_owned() + &expected.to_string() + " (found another type)")
    }

    fn invalid_value(_found: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self("expected ".to_owned() + &expected.to_string() + " (found another value)")
    }
}

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A value `JSON.parse` returned, read by serde.
pub struct Value(JsValue);

impl<'de> de::Deserializer<'de> for Value {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let value = self.0;
        if value.is_null() || value.is_undefined() {
            return visitor.visit_unit();
        }
        if let Some(flag) = value.as_bool() {
            return visitor.visit_bool(flag);
        }
        if let Some(number) = value.as_f64() {
            if number.fract() != 0.0 || number.abs() > MAX_SAFE_INTEGER {
                return Err(Error("expected a whole number (found a fraction, or one too large)".to_owned()));
            }
            return if number < 0.0 { visitor.visit_i64(number as i64) } else { visitor.visit_u64(number as u64) };
        }
        if let Some(text) = value.as_string() {
            return visitor.visit_string(text);
        }
        if Array::is_array(&value) {
            return visitor.visit_seq(Items { items: value.unchecked_into(), next: 0 });
        }
        if value.is_object() {
            let entries = Object::entries(value.unchecked_ref());
            return visitor.visit_map(Entries { entries, next: 0, value: None });
        }
        Err(Error("expected a JSON value (found something JSON.parse does not return)".to_owned()))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.0.is_null() || self.0.is_undefined() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit
        unit_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// An array's items, in order.
struct Items {
    items: Array,
    next: u32,
}

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        if self.next >= self.items.length() {
            return Ok(None);
        }
        self.next += 1;
        seed.deserialize(Value(self.items.get(self.next - 1))).map(Some)
    }
}

/// An object's entries (`Object.entries`), in order.
struct Entries {
    entries: Array,
    next: u32,
    value: Option<JsValue>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        if self.next >= self.entries.length() {
            return Ok(None);
        }
        let entry: Array = self.entries.get(self.next).unchecked_into();
        self.next += 1;
        self.value = Some(entry.get(1));
        seed.deserialize(Value(entry.get(0))).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(Value(self.value.take().unwrap_or(JsValue::UNDEFINED)))
    }
}
