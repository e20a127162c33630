//! JSON, read and written by the browser's own `JSON` object (no JSON parser in the wasm: it
//! was the largest single part of the SPA's download), mapped to the protocol's serde types.
//!
//! Reading goes through [`Value`], a serde `Deserializer` over a parsed `JsValue`; writing
//! through [`Writer`], a serde `Serializer` to JSON text for `sessionStorage`. Both are written
//! here rather than taken from serde-wasm-bindgen, because size is the point of this module
//! (twiggy, after wasm-opt): serde-wasm-bindgen's errors use serde's default messages, whose
//! "invalid type: floating point `1.5`" links Rust's whole float formatting (about 13 KB), and
//! its writer builds JS objects across the boundary before `JSON.stringify` (0.9 KB gzip more
//! than writing text). [`Value`] also calls only the visitor method each type needs, which
//! saved 6.1 KB gzip over sending every value through `deserialize_any`.
//! JSON from Entra and the API carries whole numbers only (seconds, AADSTS codes), our messages
//! name what was expected without echoing the value, and what we write is a few flat records;
//! tests/json.rs holds both to serde_json's behaviour.

use std::fmt;

use js_sys::{Array, Object};
use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::ser::{self, Impossible, Serialize};
use wasm_bindgen::{JsCast, JsValue};

/// Parses `text` as a `T`; the error says where (`groups[2]: …`) and what was expected.
pub fn parse<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let value = js_sys::JSON::parse(text).map_err(|_| "expected JSON (found text that is not JSON)".to_owned())?;
    T::deserialize(Value(value)).map_err(|Error(message)| message)
}

/// `value` as JSON text, as `serde_json` writes it; `None` when it holds what this module does
/// not read back (a float, bytes, a map or an enum variant with data: no type stored here
/// does). Enum variants without data are written as their names, tuples and tuple structs as arrays.
pub fn stringify<T: Serialize>(value: &T) -> Option<String> {
    let mut writer = Writer(String::new());
    value.serialize(&mut writer).ok()?;
    Some(writer.0)
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

/// Why a parsed JSON value is not the type asked for, with where in the document it is
/// (`groups[2]: expected a string (found another type)`).
pub struct Error(String);

impl Error {
    /// An error at the value being read now (see [`Path`]).
    #[inline(never)]
    fn new(message: String) -> Self {
        let at = Path::current();
        Self(if at.is_empty() { message } else { at + ": " + &message })
    }
}

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

impl ser::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::new(message.to_string())
    }
}

impl de::Error for Error {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::new(message.to_string())
    }

    fn invalid_type(_found: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::new("expected ".to_owned() + &expected.to_string() + " (found another type)")
    }

    fn invalid_value(_found: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::new("expected ".to_owned() + &expected.to_string() + " (found another value)")
    }
}

/// The largest integer a JavaScript number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A value `JSON.parse` returned, read by serde.
pub struct Value(JsValue);

impl Value {
    fn is_nothing(&self) -> bool {
        self.0.is_null() || self.0.is_undefined()
    }

    /// The value as a whole number, or why not.
    fn whole_number(&self, expected: &dyn Expected) -> Result<f64, Error> {
        let number =
            self.0.as_f64().ok_or_else(|| <Error as de::Error>::invalid_type(Unexpected::Other(""), expected))?;
        if number.fract() != 0.0 || number.abs() > MAX_SAFE_INTEGER {
            return Err(Error::new("expected a whole number (found a fraction, or one too large)".to_owned()));
        }
        Ok(number)
    }
}

/// Refuses a value of another JSON type than `visitor` expects.
fn other_type<'de, V: Visitor<'de>, T>(visitor: V) -> Result<T, Error> {
    Err(<Error as de::Error>::invalid_type(Unexpected::Other(""), &visitor))
}

// Each typed method calls only the visitor method its type needs, so the code serde derives for
// the others (a struct read from an array, say) is never reached and never linked.
impl<'de> de::Deserializer<'de> for Value {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_nothing() {
            return visitor.visit_unit();
        }
        if let Some(flag) = self.0.as_bool() {
            return visitor.visit_bool(flag);
        }
        if self.0.as_f64().is_some() {
            let number = self.whole_number(&visitor)?;
            return if number < 0.0 { visitor.visit_i64(number as i64) } else { visitor.visit_u64(number as u64) };
        }
        if self.0.as_string().is_some() {
            return self.deserialize_string(visitor);
        }
        if Array::is_array(&self.0) {
            return self.deserialize_seq(visitor);
        }
        self.deserialize_map(visitor)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.as_bool() {
            Some(flag) => visitor.visit_bool(flag),
            None => other_type(visitor),
        }
    }

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let number = self.whole_number(&visitor)?;
        if number < 0.0 {
            return Err(Error::new("expected a number of 0 or more (found a negative one)".to_owned()));
        }
        visitor.visit_u64(number as u64)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_u64(visitor)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let number = self.whole_number(&visitor)?;
        visitor.visit_i64(number as i64)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.0.as_string() {
            Some(text) => visitor.visit_string(text),
            None => other_type(visitor),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_string(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.is_nothing() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if !Array::is_array(&self.0) {
            return other_type(visitor);
        }
        visitor.visit_seq(Items::new(self.0.unchecked_into()))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if !self.0.is_object() || Array::is_array(&self.0) {
            return other_type(visitor);
        }
        let entries = Object::entries(self.0.unchecked_ref());
        visitor.visit_map(Entries::new(entries))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// A variant without data, written as its name; variants with data are not read (nor
    /// written).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.0.as_string() {
            Some(variant) => visitor.visit_enum(de::IntoDeserializer::<Error>::into_deserializer(variant)),
            None => other_type(visitor),
        }
    }

    /// A field the type does not know: skipped unread.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i128 u8 u16 u128 f32 f64 char bytes byte_buf unit unit_struct tuple tuple_struct
    }
}

/// Where the reader is in the document: one step per object or array open, each the key or
/// the `[index]` of the value being read in it. Errors take it when they are made. It is kept
/// here, beside the reader, rather than added to each error on its way out: that needs code in
/// every copy serde generates per type read, and cost 1.4 KB gzip; this costs 0.2 KB.
/// The browser runs this on one thread, and every step is removed when its reader is dropped.
struct Path;

thread_local! {
    static STEPS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Path {
    /// Opens an object or an array, until the level returned is dropped: no value read in it yet.
    #[inline(never)]
    fn open() -> Level {
        STEPS.with_borrow_mut(|steps| steps.push(String::new()));
        Level
    }

    /// The value read next in the innermost object or array is at `step` (empty: none).
    #[inline(never)]
    fn at(step: String) {
        STEPS.with_borrow_mut(|steps| {
            if let Some(last) = steps.last_mut() {
                *last = step;
            }
        });
    }

    /// The path to the value being read, as `notice.code` or `groups[2]`.
    fn current() -> String {
        STEPS.with_borrow(|steps| {
            let mut path = String::new();
            for step in steps.iter().filter(|step| !step.is_empty()) {
                if !path.is_empty() && !step.starts_with('[') {
                    path.push('.');
                }
                path.push_str(step);
            }
            path
        })
    }
}

/// An object or an array open in [`Path`]; dropped, it is closed.
struct Level;

impl Drop for Level {
    fn drop(&mut self) {
        STEPS.with_borrow_mut(|steps| steps.pop());
    }
}

/// An array's items, in order.
struct Items {
    items: Array,
    next: u32,
    _level: Level,
}

impl Items {
    fn new(items: Array) -> Self {
        Self { items, next: 0, _level: Path::open() }
    }

    /// The next item, if any; the path points at it.
    #[inline(never)]
    fn next(&mut self) -> Option<JsValue> {
        if self.next >= self.items.length() {
            Path::at(String::new());
            return None;
        }
        Path::at("[".to_owned() + &self.next.to_string() + "]");
        self.next += 1;
        Some(self.items.get(self.next - 1))
    }
}

impl<'de> SeqAccess<'de> for Items {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Error> {
        match self.next() {
            Some(item) => seed.deserialize(Value(item)).map(Some),
            None => Ok(None),
        }
    }
}

/// An object's entries (`Object.entries`), in order.
struct Entries {
    entries: Array,
    next: u32,
    /// The value of the entry whose key was read last.
    value: JsValue,
    _level: Level,
}

impl Entries {
    fn new(entries: Array) -> Self {
        Self { entries, next: 0, value: JsValue::UNDEFINED, _level: Path::open() }
    }

    /// The next entry's key, if any, keeping its value for [`MapAccess::next_value_seed`]; the
    /// path points at it.
    #[inline(never)]
    fn next_key(&mut self) -> Option<JsValue> {
        if self.next >= self.entries.length() {
            // Past the last entry, an error (a missing field) is about the object itself.
            Path::at(String::new());
            return None;
        }
        let entry: Array = self.entries.get(self.next).unchecked_into();
        self.next += 1;
        let key = entry.get(0);
        Path::at(key.as_string().unwrap_or_default());
        self.value = entry.get(1);
        Some(key)
    }
}

impl<'de> MapAccess<'de> for Entries {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        match self.next_key() {
            Some(key) => seed.deserialize(Value(key)).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(Value(std::mem::take(&mut self.value)))
    }
}

/// Writes JSON text.
pub struct Writer(String);

impl Writer {
    fn string(&mut self, text: &str) {
        self.0.push('"');
        for c in text.chars() {
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                '\t' => self.0.push_str("\\t"),
                '\u{8}' => self.0.push_str("\\b"),
                '\u{c}' => self.0.push_str("\\f"),
                c if u32::from(c) < 0x20 => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.0.push_str("\\u00");
                    self.0.push(char::from(HEX[(u32::from(c) >> 4) as usize]));
                    self.0.push(char::from(HEX[(u32::from(c) & 15) as usize]));
                }
                c => self.0.push(c),
            }
        }
        self.0.push('"');
    }

    fn unsupported() -> Error {
        Error::new("expected a record of strings, whole numbers, booleans and lists".to_owned())
    }
}

/// The elements of a list, or the fields of a record, being written.
pub struct Compound<'a> {
    writer: &'a mut Writer,
    first: bool,
}

impl Compound<'_> {
    fn separate(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.writer.0.push(',');
        }
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.separate();
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Error> {
        self.writer.0.push(']');
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<(), Error> {
        ser::SerializeSeq::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        self.separate();
        self.writer.string(key);
        self.writer.0.push(':');
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Error> {
        self.writer.0.push('}');
        Ok(())
    }
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Impossible<(), Error>;

    fn serialize_bool(self, value: bool) -> Result<(), Error> {
        self.0.push_str(if value { "true" } else { "false" });
        Ok(())
    }

    fn serialize_i8(self, value: i8) -> Result<(), Error> {
        self.serialize_i64(value.into())
    }

    fn serialize_i16(self, value: i16) -> Result<(), Error> {
        self.serialize_i64(value.into())
    }

    fn serialize_i32(self, value: i32) -> Result<(), Error> {
        self.serialize_i64(value.into())
    }

    fn serialize_i64(self, value: i64) -> Result<(), Error> {
        self.0.push_str(&value.to_string());
        Ok(())
    }

    fn serialize_u8(self, value: u8) -> Result<(), Error> {
        self.serialize_u64(value.into())
    }

    fn serialize_u16(self, value: u16) -> Result<(), Error> {
        self.serialize_u64(value.into())
    }

    fn serialize_u32(self, value: u32) -> Result<(), Error> {
        self.serialize_u64(value.into())
    }

    fn serialize_u64(self, value: u64) -> Result<(), Error> {
        self.0.push_str(&value.to_string());
        Ok(())
    }

    fn serialize_f32(self, _value: f32) -> Result<(), Error> {
        Err(Writer::unsupported())
    }

    fn serialize_f64(self, _value: f64) -> Result<(), Error> {
        Err(Writer::unsupported())
    }

    fn serialize_char(self, value: char) -> Result<(), Error> {
        self.string(value.encode_utf8(&mut [0; 4]));
        Ok(())
    }

    fn serialize_str(self, value: &str) -> Result<(), Error> {
        self.string(value);
        Ok(())
    }

    fn serialize_bytes(self, _value: &[u8]) -> Result<(), Error> {
        Err(Writer::unsupported())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.0.push_str("null");
        Ok(())
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), Error> {
        Err(Writer::unsupported())
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<Compound<'a>, Error> {
        self.0.push('[');
        Ok(Compound { writer: self, first: true })
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Writer::unsupported())
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Writer::unsupported())
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Compound<'a>, Error> {
        self.0.push('{');
        Ok(Compound { writer: self, first: true })
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Writer::unsupported())
    }
}
