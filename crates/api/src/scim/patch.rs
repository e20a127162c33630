//! SCIM resources as JSON objects, and PATCH (RFC 7644 §3.5.2) applied to them: pure functions,
//! so that what Entra's provisioning service sends is tested without a server.
//!
//! Entra's habits are accepted as Microsoft documents them: `op` in any case (`Replace`),
//! `Replace` without a path whose value is an object of attributes (some with dotted names),
//! booleans sent as the strings `"True"`/`"False"`, and member removal both as
//! `members[value eq "…"]` and as `members` with a list of values.

use serde_json::{Map, Value};

use super::filter::{parse_path, Comparison, PatchPath};

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension (employee number, department, manager…).
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// A PATCH request.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// One attribute a resource type stores, as its schema describes it (RFC 7643 §7): what PATCH
/// accepts and what `/Schemas` publishes are this one table.
#[derive(Debug, Clone, Copy)]
pub struct Attribute {
    /// The name as the schema spells it (SCIM compares names case-insensitively).
    pub name: &'static str,
    /// `string`, `boolean`, `reference` or `complex`.
    pub kind: &'static str,
    /// A list.
    pub multi_valued: bool,
    /// Needed in every resource.
    pub required: bool,
    /// `none` or `server`.
    pub uniqueness: &'static str,
    /// `readWrite`, `readOnly` or `immutable`.
    pub mutability: &'static str,
}

/// An optional, non-unique, writable attribute.
const fn attribute(name: &'static str, kind: &'static str, multi_valued: bool) -> Attribute {
    Attribute { name, kind, multi_valued, required: false, uniqueness: "none", mutability: "readWrite" }
}

/// A required attribute the service keeps unique.
const fn unique(name: &'static str, mutability: &'static str) -> Attribute {
    Attribute { name, kind: "string", multi_valued: false, required: true, uniqueness: "server", mutability }
}

/// What a resource type accepts: its attributes, with their canonical spelling.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The resource type's name (`User`, `Group`).
    pub name: &'static str,
    /// Its core schema.
    pub schema: &'static str,
    /// Attributes of the core schema (besides the service's own: `id`, `meta`, `schemas`).
    pub attributes: &'static [Attribute],
    /// An extension schema and its attributes.
    pub extension: Option<(&'static str, &'static [Attribute])>,
}

/// Users: RFC 7643 §4.1 and the enterprise extension (§4.3).
pub const USER: Kind = Kind {
    name: "User",
    schema: USER_SCHEMA,
    attributes: &[
        unique("userName", "readWrite"),
        unique("externalId", "immutable"),
        attribute("name", "complex", false),
        attribute("displayName", "string", false),
        attribute("nickName", "string", false),
        attribute("profileUrl", "reference", false),
        attribute("title", "string", false),
        attribute("userType", "string", false),
        attribute("preferredLanguage", "string", false),
        attribute("locale", "string", false),
        attribute("timezone", "string", false),
        attribute("active", "boolean", false),
        attribute("emails", "complex", true),
        attribute("phoneNumbers", "complex", true),
        attribute("ims", "complex", true),
        attribute("photos", "complex", true),
        attribute("addresses", "complex", true),
        Attribute { mutability: "readOnly", ..attribute("groups", "complex", true) },
        attribute("entitlements", "complex", true),
        attribute("roles", "complex", true),
        attribute("x509Certificates", "complex", true),
    ],
    extension: Some((
        ENTERPRISE_SCHEMA,
        &[
            attribute("employeeNumber", "string", false),
            attribute("costCenter", "string", false),
            attribute("organization", "string", false),
            attribute("division", "string", false),
            attribute("department", "string", false),
            attribute("manager", "complex", false),
        ],
    )),
};

/// Groups: RFC 7643 §4.2.
pub const GROUP: Kind = Kind {
    name: "Group",
    schema: GROUP_SCHEMA,
    attributes: &[
        unique("displayName", "readWrite"),
        attribute("externalId", "string", false),
        attribute("members", "complex", true),
    ],
    extension: None,
};

/// Attributes the service sets; a client's values for them are ignored, as RFC 7643 §3.1 says.
const SERVICE_SET: [&str; 3] = ["id", "meta", "schemas"];

/// A refused PATCH or resource: the SCIM `scimType` and what was expected and found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `invalidSyntax`, `invalidPath`, `invalidValue`, `noTarget` or `mutability`.
    pub scim_type: &'static str,
    /// What was expected and what was found.
    pub detail: String,
}

fn refuse<T>(scim_type: &'static str, detail: String) -> Result<T, Refusal> {
    Err(Refusal { scim_type, detail })
}

/// The operation of a PATCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `remove`.
    Remove,
}

/// One PATCH operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// What to do.
    pub op: Op,
    /// Where; `None` for the resource itself.
    pub path: Option<PatchPath>,
    /// The value (none for most removals).
    pub value: Option<Value>,
}

/// Reads a PATCH request body (`schemas` must name the PatchOp message).
pub fn operations(body: &Value) -> Result<Vec<Operation>, Refusal> {
    let Some(body) = body.as_object() else {
        return refuse("invalidSyntax", format!("expected a PatchOp object (found {})", kind_of(body)));
    };
    let names_patch = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| schemas.iter().any(|s| s.as_str() == Some(PATCH_SCHEMA)));
    if !names_patch {
        return refuse("invalidSyntax", format!("expected \"schemas\": [\"{PATCH_SCHEMA}\"] in a PATCH request"));
    }
    let Some(list) = field(body, "Operations").and_then(Value::as_array) else {
        return refuse("invalidSyntax", "expected \"Operations\": a list of operations (found none)".into());
    };
    list.iter()
        .enumerate()
        .map(|(i, operation)| {
            let Some(operation) = operation.as_object() else {
                return refuse(
                    "invalidSyntax",
                    format!("Operations[{i}]: expected an object (found {})", kind_of(operation)),
                );
            };
            let op = match field(operation, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                Some("add") => Op::Add,
                Some("replace") => Op::Replace,
                Some("remove") => Op::Remove,
                other => {
                    return refuse(
                        "invalidSyntax",
                        format!(
                            "Operations[{i}].op: expected add, replace or remove (found {})",
                            other.unwrap_or("none")
                        ),
                    )
                }
            };
            let path =
                match field(operation, "path") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(path)) => Some(parse_path(path).map_err(|e| Refusal {
                        scim_type: "invalidPath",
                        detail: format!("Operations[{i}].path: {e}"),
                    })?),
                    Some(other) => {
                        return refuse(
                            "invalidPath",
                            format!("Operations[{i}].path: expected a string (found {})", kind_of(other)),
                        )
                    }
                };
            let value = field(operation, "value").cloned();
            match (op, &path, &value) {
                (Op::Remove, None, _) => {
                    refuse("noTarget", format!("Operations[{i}]: expected a path for remove (found none)"))
                }
                (Op::Add | Op::Replace, _, None) => {
                    refuse("invalidValue", format!("Operations[{i}]: expected a value for {op:?} (found none)"))
                }
                (Op::Add | Op::Replace, None, Some(value)) if !value.is_object() => refuse(
                    "invalidValue",
                    format!(
                        "Operations[{i}]: expected an object of attributes when there is no path (found {})",
                        kind_of(value)
                    ),
                ),
                _ => Ok(Operation { op, path, value }),
            }
        })
        .collect()
}

/// A member of a JSON object, its name compared case-insensitively (SCIM's rule).
fn field<'a>(object: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    object.get(name).or_else(|| object.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl Kind {
    /// The canonical name of a core attribute, or of the extension's with `schema`.
    fn canonical(&self, schema: Option<&str>, attr: &str) -> Result<(Option<&'static str>, &'static str), Refusal> {
        let find =
            |attributes: &'static [Attribute]| attributes.iter().map(|a| a.name).find(|n| n.eq_ignore_ascii_case(attr));
        // The core schema's attributes, and the service's own (`id`, `meta`, `schemas`).
        let core =
            || SERVICE_SET.iter().copied().find(|n| n.eq_ignore_ascii_case(attr)).or_else(|| find(self.attributes));
        let found = match schema {
            None => core().map(|a| (None, a)),
            Some(schema) if schema.eq_ignore_ascii_case(self.schema) => core().map(|a| (None, a)),
            Some(schema) => match self.extension {
                Some((urn, attributes)) if urn.eq_ignore_ascii_case(schema) => find(attributes).map(|a| (Some(urn), a)),
                _ => {
                    return refuse(
                        "invalidPath",
                        format!(
                            "expected an attribute of {} or its extension (found the schema `{schema}`)",
                            self.name
                        ),
                    )
                }
            },
        };
        found.ok_or_else(|| Refusal {
            scim_type: "invalidPath",
            detail: format!(
                "expected an attribute of a SCIM {} (found `{attr}`, which this endpoint does not store): \
                 remove its mapping in Entra (Provisioning → Mappings)",
                self.name
            ),
        })
    }

    /// Checks a resource as sent (`POST`, `PUT`) and puts it in canonical form: attribute names
    /// spelled as the schema does, the service's own attributes dropped, booleans as booleans.
    pub fn normalise(&self, resource: &Value) -> Result<Map<String, Value>, Refusal> {
        let Some(sent) = resource.as_object() else {
            return refuse("invalidSyntax", format!("expected a {} object (found {})", self.name, kind_of(resource)));
        };
        let mut out = Map::new();
        for (key, value) in sent {
            if value.is_null() {
                continue; // Entra sends `"title": null` for an attribute that has no value
            }
            if let Some((urn, _)) = self.extension.filter(|(urn, _)| urn.eq_ignore_ascii_case(key)) {
                let Some(extension) = value.as_object() else {
                    return refuse(
                        "invalidValue",
                        format!("expected `{urn}` to be an object (found {})", kind_of(value)),
                    );
                };
                let mut inner = Map::new();
                for (name, value) in extension {
                    let (_, canonical) = self.canonical(Some(urn), name)?;
                    inner.insert(canonical.to_owned(), value.clone());
                }
                out.insert(urn.to_owned(), Value::Object(inner));
                continue;
            }
            let (_, canonical) = self.canonical(None, key)?;
            if SERVICE_SET.contains(&canonical) {
                continue;
            }
            out.insert(canonical.to_owned(), normalise_value(canonical, value.clone())?);
        }
        Ok(out)
    }

    /// Applies `operations` in order to `resource` (canonical form); on an error, the caller
    /// keeps the resource it had: nothing is half-applied in storage.
    pub fn apply(&self, resource: &mut Map<String, Value>, operations: &[Operation]) -> Result<(), Refusal> {
        for operation in operations {
            match &operation.path {
                None => {
                    let attributes = operation.value.as_ref().and_then(Value::as_object).cloned().unwrap_or_default();
                    for (key, value) in attributes {
                        let is_extension = self.extension.is_some_and(|(urn, _)| urn.eq_ignore_ascii_case(&key));
                        if is_extension {
                            // `{"urn:…:User": {"department": "…"}}`: each member as a path of its own.
                            for (name, value) in value.as_object().cloned().unwrap_or_default() {
                                let path = parse_path(&format!("{key}:{name}"))
                                    .map_err(|e| Refusal { scim_type: "invalidPath", detail: e.0 })?;
                                self.apply_at(resource, operation.op, &path, Some(value))?;
                            }
                            continue;
                        }
                        let path = parse_path(&key).map_err(|e| Refusal { scim_type: "invalidPath", detail: e.0 })?;
                        self.apply_at(resource, operation.op, &path, Some(value))?;
                    }
                }
                Some(path) => match self.extension_named(path) {
                    // The extension's URN itself: `{"path": "urn:…:enterprise:2.0:User", "value": {…}}`.
                    Some(urn) => self.apply_extension(resource, operation.op, urn, operation.value.as_ref())?,
                    None => self.apply_at(resource, operation.op, path, operation.value.clone())?,
                },
            }
        }
        Ok(())
    }

    /// The extension's URN when `path` is that URN and nothing more (which the path grammar reads
    /// as the attribute `User` of the schema `urn:…:enterprise:2.0`).
    fn extension_named(&self, path: &PatchPath) -> Option<&'static str> {
        let (urn, _) = self.extension?;
        let schema = path.schema.as_deref()?;
        let whole = urn.len() == schema.len() + 1 + path.attr.len()
            && urn[..schema.len()].eq_ignore_ascii_case(schema)
            && urn[schema.len() + 1..].eq_ignore_ascii_case(&path.attr);
        (whole && path.filter.is_none() && path.sub.is_none()).then_some(urn)
    }

    /// An operation on the whole extension: `add` and `replace` set each attribute of the value
    /// (RFC 7644 §3.5.2.3: a complex target's unnamed sub-attributes are left unchanged); `remove`
    /// removes them all.
    fn apply_extension(
        &self,
        resource: &mut Map<String, Value>,
        op: Op,
        urn: &'static str,
        value: Option<&Value>,
    ) -> Result<(), Refusal> {
        if op == Op::Remove {
            resource.remove(urn);
            return Ok(());
        }
        let Some(attributes) = value.and_then(Value::as_object) else {
            return refuse(
                "invalidValue",
                format!("expected an object of `{urn}`'s attributes (found {})", value.map_or("none", kind_of)),
            );
        };
        for (name, value) in attributes {
            let path =
                parse_path(&format!("{urn}:{name}")).map_err(|e| Refusal { scim_type: "invalidPath", detail: e.0 })?;
            self.apply_at(resource, op, &path, Some(value.clone()))?;
        }
        Ok(())
    }

    fn apply_at(
        &self,
        resource: &mut Map<String, Value>,
        op: Op,
        path: &PatchPath,
        value: Option<Value>,
    ) -> Result<(), Refusal> {
        let (schema, attr) = self.canonical(path.schema.as_deref(), &path.attr)?;
        if SERVICE_SET.contains(&attr) {
            return refuse(
                "mutability",
                format!("expected a PATCH of a client's attribute (found `{attr}`, which the service sets)"),
            );
        }
        let required = schema.is_none() && self.attributes.iter().any(|a| a.name == attr && a.required);
        if op == Op::Remove && path.filter.is_none() && path.sub.is_none() && (required || attr == "active") {
            // RFC 7644 §3.5.2.2: a remove leaves the attribute unassigned, which a required
            // attribute, or `active` (whether the member may sign in), cannot be.
            return refuse(
                "mutability",
                format!(
                    "expected `{attr}` to be replaced, not removed: {}",
                    if required { "it is required" } else { "send `active: false` to disable the user" }
                ),
            );
        }
        match schema {
            None => {
                let multi_valued = self.attributes.iter().any(|a| a.name == attr && a.multi_valued);
                apply_in(resource, attr, multi_valued, op, path, value)
            }
            Some(urn) => match resource.entry(urn).or_insert_with(|| Value::Object(Map::new())) {
                Value::Object(extension) => apply_in(extension, attr, false, op, path, value),
                _ => refuse("invalidValue", format!("expected the stored `{urn}` to be an object")),
            },
        }
    }
}

/// Applies one operation to `attr` of `object`.
fn apply_in(
    object: &mut Map<String, Value>,
    attr: &str,
    multi_valued: bool,
    op: Op,
    path: &PatchPath,
    value: Option<Value>,
) -> Result<(), Refusal> {
    let value = value.map(|v| normalise_value(attr, v)).transpose()?;
    match (&path.filter, &path.sub) {
        (None, None) => match op {
            Op::Remove if multi_valued && value.as_ref().is_some_and(Value::is_array) => {
                // Entra's removal of listed members: `{"path": "members", "value": [{"value": "…"}]}`.
                let remove = value.unwrap_or_default();
                if let Some(Value::Array(items)) = object.get_mut(attr) {
                    items.retain(|item| !remove.as_array().into_iter().flatten().any(|r| same_item(item, r)));
                }
            }
            Op::Remove => {
                object.remove(attr);
            }
            Op::Add if multi_valued => {
                let items = match value.unwrap_or_default() {
                    Value::Array(items) => items,
                    single => vec![single],
                };
                let list = object.entry(attr).or_insert_with(|| Value::Array(Vec::new()));
                let Value::Array(list) = list else {
                    return refuse("invalidValue", format!("expected the stored `{attr}` to be a list"));
                };
                for item in items {
                    if !list.iter().any(|existing| same_item(existing, &item)) {
                        list.push(item);
                    }
                }
            }
            Op::Add | Op::Replace => {
                let value = value.unwrap_or_default();
                if multi_valued && !value.is_array() {
                    return refuse("invalidValue", format!("expected a list for `{attr}` (found {})", kind_of(&value)));
                }
                match (object.get_mut(attr), value) {
                    // Add to a complex attribute merges its sub-attributes (RFC 7644 §3.5.2.1).
                    (Some(Value::Object(existing)), Value::Object(new)) if op == Op::Add => existing.extend(new),
                    (_, value) => {
                        object.insert(attr.to_owned(), value);
                    }
                }
            }
        },
        (None, Some(sub)) => {
            let entry = object.entry(attr).or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(complex) = entry else {
                return refuse("invalidPath", format!("expected `{attr}` to be complex to reach `{attr}.{sub}`"));
            };
            match op {
                Op::Remove => {
                    complex.remove(sub);
                }
                Op::Add | Op::Replace => {
                    complex.insert(sub.clone(), value.unwrap_or_default());
                }
            }
        }
        (Some(filter), sub) => {
            if !multi_valued {
                return refuse("invalidPath", format!("expected a multi-valued attribute before `[` (found `{attr}`)"));
            }
            let list = object.entry(attr).or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(list) = list else {
                return refuse("invalidValue", format!("expected the stored `{attr}` to be a list"));
            };
            let matches = |item: &Value| filter.0.iter().all(|c| compare(item, c));
            match (op, sub) {
                (Op::Remove, None) => list.retain(|item| !matches(item)),
                (Op::Remove, Some(sub)) => {
                    for item in list.iter_mut().filter(|item| matches(item)) {
                        if let Value::Object(item) = item {
                            item.remove(sub);
                        }
                    }
                }
                (Op::Add | Op::Replace, sub) => {
                    let value = value.unwrap_or_default();
                    if !list.iter().any(matches) {
                        // `emails[type eq "work"].value` on a user with no work email: Entra
                        // expects the value to be created, with the filter's own values.
                        let mut item = Map::new();
                        for c in &filter.0 {
                            item.insert(c.attr.clone(), c.value.clone());
                        }
                        list.push(Value::Object(item));
                    }
                    for item in list.iter_mut().filter(|item| matches(item)) {
                        let Value::Object(item) = item else { continue };
                        match (sub, &value) {
                            (Some(sub), value) => {
                                item.insert(sub.clone(), value.clone());
                            }
                            (None, Value::Object(fields)) => item.extend(fields.clone()),
                            (None, other) => {
                                return refuse(
                                    "invalidValue",
                                    format!("expected an object for `{}[…]` (found {})", attr, kind_of(other)),
                                )
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// Whether `item` of a list satisfies one comparison (attribute names case-insensitive,
/// strings compared case-insensitively as SCIM's default `caseExact: false` says).
fn compare(item: &Value, comparison: &Comparison) -> bool {
    let Some(item) = item.as_object() else { return false };
    match (field(item, &comparison.attr), &comparison.value) {
        (Some(Value::String(a)), Value::String(b)) => a.eq_ignore_ascii_case(b),
        (Some(a), b) => normalise_bool(a) == *b,
        (None, Value::Null) => true,
        (None, _) => false,
    }
}

/// Two items of a list are the same when their `value`s are (members, emails), or when equal.
fn same_item(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(Value::String(x)), Some(Value::String(y))) => x.eq_ignore_ascii_case(y),
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `"True"`/`"False"` (any case) as booleans, for the attributes whose type is boolean.
fn normalise_bool(value: &Value) -> Value {
    match value.as_str().map(str::to_ascii_lowercase).as_deref() {
        Some("true") => Value::Bool(true),
        Some("false") => Value::Bool(false),
        _ => value.clone(),
    }
}

/// Entra sends booleans as strings; `active` and each `primary` are stored as booleans.
fn normalise_value(attr: &str, value: Value) -> Result<Value, Refusal> {
    match (attr, value) {
        ("active", value) => match normalise_bool(&value) {
            Value::Bool(b) => Ok(Value::Bool(b)),
            other => refuse("invalidValue", format!("expected `active` to be true or false (found {other})")),
        },
        (_, Value::Array(items)) => Ok(Value::Array(
            items
                .into_iter()
                .map(|item| match item {
                    Value::Object(mut fields) => {
                        if let Some(primary) = fields.get_mut("primary") {
                            *primary = normalise_bool(primary);
                        }
                        Value::Object(fields)
                    }
                    other => other,
                })
                .collect(),
        )),
        (_, value) => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(operations: Value) -> Vec<Operation> {
        super::operations(&json!({ "schemas": [PATCH_SCHEMA], "Operations": operations })).unwrap()
    }

    fn user() -> Map<String, Value> {
        USER.normalise(&json!({
            "schemas": [USER_SCHEMA],
            "externalId": "a11ce000-0000-4000-8000-000000000001",
            "UserName": "alice@contoso.example",
            "active": "True",
            "emails": [{ "primary": "true", "type": "work", "value": "alice@contoso.example" }],
            "name": { "givenName": "Alice", "familyName": "Moreau" },
            ENTERPRISE_SCHEMA: { "Department": "Dispatch" }
        }))
        .unwrap()
    }

    #[test]
    fn a_created_user_is_stored_in_canonical_form() {
        let user = user();
        assert_eq!(user["userName"], "alice@contoso.example");
        assert_eq!(user["active"], true);
        assert_eq!(user["emails"][0]["primary"], true);
        assert_eq!(user[ENTERPRISE_SCHEMA]["department"], "Dispatch");
        assert!(!user.contains_key("schemas"));
    }

    #[test]
    fn entra_replace_shapes_apply() {
        let mut user = user();
        USER.apply(
            &mut user,
            &patch(json!([
                { "op": "Replace", "path": "active", "value": "False" },
                { "op": "replace", "value": { "displayName": "Alice M.", "name.familyName": "Moreau-Ng" } },
                { "op": "Add", "path": "emails[type eq \"home\"].value", "value": "alice@home.example" },
                { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "am@contoso.example" },
                { "op": "Add", "value": { ENTERPRISE_SCHEMA: { "manager": { "value": "b0b" } } } },
                { "op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" }
            ])),
        )
        .unwrap();
        assert_eq!(user["active"], false);
        assert_eq!(user["displayName"], "Alice M.");
        assert_eq!(user["name"], json!({ "givenName": "Alice", "familyName": "Moreau-Ng" }));
        assert_eq!(user["emails"][0]["value"], "am@contoso.example");
        assert_eq!(user["emails"][1], json!({ "type": "home", "value": "alice@home.example" }));
        assert_eq!(user[ENTERPRISE_SCHEMA], json!({ "manager": { "value": "b0b" } }));
    }

    #[test]
    fn members_are_added_once_and_removed_in_both_of_entras_forms() {
        let mut group = GROUP.normalise(&json!({ "displayName": "Site-001", "members": [] })).unwrap();
        let member = |id: &str| json!({ "value": id });
        GROUP
            .apply(
                &mut group,
                &patch(json!([
                    { "op": "Add", "path": "members", "value": [member("a"), member("b"), member("c")] },
                    { "op": "Add", "path": "members", "value": [member("A")] },
                    { "op": "Remove", "path": "members[value eq \"b\"]" },
                    { "op": "Remove", "path": "members", "value": [member("c")] }
                ])),
            )
            .unwrap();
        assert_eq!(group["members"], json!([member("a")]));
        GROUP.apply(&mut group, &patch(json!([{ "op": "Remove", "path": "members" }]))).unwrap();
        assert!(!group.contains_key("members"));
    }

    #[test]
    fn edges_of_patching_hold() {
        let mut user = user();
        USER.apply(
            &mut user,
            &patch(json!([
                // Add merges into a complex attribute; Replace replaces it.
                { "op": "Add", "path": "name", "value": { "middleName": "J" } },
                { "op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:title", "value": "Dispatcher" },
                { "op": "Add", "path": "phoneNumbers", "value": [{ "type": "work", "value": 5 }] },
                { "op": "Add", "path": "phoneNumbers", "value": [{ "type": "mobile", "value": 5 }, { "type": "fax", "value": 6 }] },
                { "op": "Add", "path": "emails", "value": [{ "type": "work", "value": "ALICE@contoso.example" }] },
                { "op": "Add", "path": "addresses", "value": [{ "type": "work", "postalCode": "1" }] },
                { "op": "Add", "path": "addresses", "value": [{ "type": "work", "postalCode": "1" }] },
                { "op": "Remove", "path": "emails[primary eq true]" }
            ])),
        )
        .unwrap();
        assert_eq!(user["name"], json!({ "givenName": "Alice", "familyName": "Moreau", "middleName": "J" }));
        assert_eq!(user["title"], "Dispatcher", "the core schema's URN names a core attribute");
        assert_eq!(
            user["addresses"],
            json!([{ "type": "work", "postalCode": "1" }]),
            "equal items without a value: one"
        );
        assert_eq!(
            user["phoneNumbers"],
            json!([{ "type": "work", "value": 5 }, { "type": "fax", "value": 6 }]),
            "same value: one item"
        );
        assert_eq!(user["emails"], json!([]), "`primary` compared as a boolean; the same email, any case, once");
        USER.apply(&mut user, &patch(json!([{ "op": "Replace", "path": "name", "value": { "formatted": "A" } }])))
            .unwrap();
        assert_eq!(user["name"], json!({ "formatted": "A" }));
        USER.apply(&mut user, &patch(json!([{ "op": "Add", "path": "emails", "value": "x" }]))).unwrap();
        assert_eq!(user["emails"], json!(["x"]), "a single value added to a list is one item");
        let refusal =
            USER.apply(&mut user, &patch(json!([{ "op": "Replace", "path": "emails", "value": "x" }]))).unwrap_err();
        assert_eq!(refusal.detail, "expected a list for `emails` (found a string)");
        let other = parse_path("urn:example:Custom:2.0:User:badge").unwrap();
        let refusal =
            USER.apply(&mut user, &[Operation { op: Op::Add, path: Some(other), value: Some(json!(1)) }]).unwrap_err();
        assert!(refusal.detail.contains("found the schema `urn:example:Custom:2.0:User`"), "{refusal:?}");
        let refusal = super::operations(&json!([])).unwrap_err();
        assert_eq!(refusal.detail, "expected a PatchOp object (found a list)");
    }

    fn patched(
        kind: &Kind,
        mut resource: Map<String, Value>,
        operations: Value,
    ) -> Result<Map<String, Value>, Refusal> {
        let ops = super::operations(&json!({ "schemas": [PATCH_SCHEMA], "Operations": operations }))?;
        kind.apply(&mut resource, &ops).map(|()| resource)
    }

    /// Issue #30: a SCIM compliance checker's PATCH whose path is the extension's URN itself.
    #[test]
    fn the_extension_urn_as_a_path_sets_or_removes_its_attributes() {
        let set = json!([{ "op": "replace", "path": ENTERPRISE_SCHEMA, "value": { "employeeNumber": "701", "DEPARTMENT": "Fire" } }]);
        let alice = patched(&USER, user(), set).unwrap();
        assert_eq!(alice[ENTERPRISE_SCHEMA], json!({ "department": "Fire", "employeeNumber": "701" }));
        let add = json!([{ "op": "add", "path": ENTERPRISE_SCHEMA.to_uppercase(), "value": { "costCenter": "4" } }]);
        let alice = patched(&USER, alice, add).unwrap();
        assert_eq!(alice[ENTERPRISE_SCHEMA]["costCenter"], "4", "the URN compared case-insensitively");
        assert_eq!(alice[ENTERPRISE_SCHEMA]["department"], "Fire", "unnamed attributes left as they were");
        let without = patched(&USER, alice, json!([{ "op": "remove", "path": ENTERPRISE_SCHEMA }])).unwrap();
        assert!(!without.contains_key(ENTERPRISE_SCHEMA));
        let bad = json!([{ "op": "add", "path": ENTERPRISE_SCHEMA, "value": { "shoeSize": 44 } }]);
        assert_eq!(patched(&USER, user(), bad).unwrap_err().scim_type, "invalidPath");
        let bad = json!([{ "op": "add", "path": ENTERPRISE_SCHEMA, "value": "x" }]);
        assert_eq!(patched(&USER, user(), bad).unwrap_err().scim_type, "invalidValue");
    }

    /// Issue #30: a remove is done, or refused with `mutability`; never answered and ignored.
    #[test]
    fn removing_an_optional_attribute_removes_it_and_a_required_one_or_active_is_refused() {
        let named = patched(&USER, user(), json!([{ "op": "add", "path": "displayName", "value": "Alice" }])).unwrap();
        let removed = patched(&USER, named, json!([{ "op": "remove", "path": "displayName" }])).unwrap();
        assert!(!removed.contains_key("displayName"));
        for attr in ["active", "userName", "externalId"] {
            let refusal = patched(&USER, user(), json!([{ "op": "remove", "path": attr }])).unwrap_err();
            assert_eq!(refusal.scim_type, "mutability", "{attr}");
            assert!(refusal.detail.contains(&format!("expected `{attr}` to be replaced, not removed")), "{refusal:?}");
        }
        let group = GROUP.normalise(&json!({ "displayName": "Dispatch" })).unwrap();
        let refusal = patched(&GROUP, group, json!([{ "op": "remove", "path": "displayName" }])).unwrap_err();
        assert_eq!((refusal.scim_type, refusal.detail.contains("it is required")), ("mutability", true));
    }

    #[test]
    fn refusals_name_what_was_expected() {
        let refused = |operations: Value| {
            let mut user = user();
            match super::operations(&json!({ "schemas": [PATCH_SCHEMA], "Operations": operations })) {
                Ok(ops) => USER.apply(&mut user, &ops).unwrap_err(),
                Err(refusal) => refusal,
            }
        };
        let cases = [
            (
                json!([{ "op": "Move", "path": "active" }]),
                "invalidSyntax",
                "expected add, replace or remove (found move)",
            ),
            (json!([{ "op": "Remove" }]), "noTarget", "expected a path for remove"),
            (json!([{ "op": "Replace", "path": "active" }]), "invalidValue", "expected a value"),
            (json!([{ "op": "Replace", "path": "active", "value": "maybe" }]), "invalidValue", "true or false"),
            (
                json!([{ "op": "Replace", "path": "favouriteColour", "value": "x" }]),
                "invalidPath",
                "remove its mapping",
            ),
            (json!([{ "op": "Replace", "path": "id", "value": "x" }]), "mutability", "which the service sets"),
            (
                json!([{ "op": "Replace", "path": "userName[value eq \"x\"]", "value": "x" }]),
                "invalidPath",
                "multi-valued",
            ),
            (json!([{ "op": "Replace", "value": "x" }]), "invalidValue", "an object of attributes"),
            (
                json!([{ "op": "Add", "path": "members[value eq \"x\"]", "value": {} }]),
                "invalidPath",
                "found `members`",
            ),
        ];
        for (operations, scim_type, says) in cases {
            let refusal = refused(operations.clone());
            assert_eq!(refusal.scim_type, scim_type, "{operations}: {refusal:?}");
            assert!(refusal.detail.contains(says), "{operations}: {refusal:?}");
        }
        let missing = super::operations(&json!({ "Operations": [] })).unwrap_err();
        assert!(missing.detail.contains(PATCH_SCHEMA), "{missing:?}");
        assert!(USER.normalise(&json!({ "userName": "x", "shoeSize": 9 })).unwrap_err().detail.contains("`shoeSize`"));
    }
}
