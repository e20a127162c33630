//! SCIM's filter and PATCH-path grammar (RFC 7644 §3.4.2.2 and §3.5.2), the part Entra's
//! provisioning service sends: comparisons `attr eq value` joined by `and`, and the paths
//! `attr`, `attr.sub`, `urn:…:attr`, `attr[sub eq "value"]` and `attr[sub eq "value"].sub`.
//! Anything else is refused by name, never guessed at.
//!
//! Written by hand, on purpose: the one SCIM filter crate on crates.io (`scim-filter` 0.2)
//! evaluates filters in memory over whole resources rather than parsing them into something a
//! database query can use, brings nom 7, chrono and rust_decimal with it, and has had no release
//! since January 2024. The grammar needed here is this page; `./dev fuzz` feeds it.

use serde_json::Value;

/// One comparison: `attr eq value`. Attribute names are kept as sent (SCIM compares them
/// case-insensitively).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The attribute path, e.g. `userName`, `emails.value`, or a URN-qualified name.
    pub attr: String,
    /// The value: a string, a boolean, a number or null.
    pub value: Value,
}

/// A filter: comparisons that must all hold.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(pub Vec<Comparison>);

/// A PATCH operation's target.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The schema URN, when the path names one (`urn:…:enterprise:2.0:User:manager`).
    pub schema: Option<String>,
    /// The attribute (`members`, `name`, `emails`).
    pub attr: String,
    /// Which values of a multi-valued attribute (`members[value eq "…"]`).
    pub filter: Option<Filter>,
    /// A sub-attribute (`name.givenName`, `emails[type eq "work"].value`).
    pub sub: Option<String>,
}

/// Why a filter or path was refused: what was expected and what was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unsupported(pub String);

/// The longest filter or path read; Entra's are well under this.
pub const MAX_LENGTH: usize = 4096;

const OTHER_OPERATORS: [&str; 9] = ["ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "pr"];

/// Parses a filter of `eq` comparisons joined by `and`.
pub fn parse_filter(text: &str) -> Result<Filter, Unsupported> {
    if text.len() > MAX_LENGTH {
        return Err(Unsupported(format!("expected a filter of at most {MAX_LENGTH} bytes (found {})", text.len())));
    }
    let mut reader = Reader { text, at: 0 };
    let mut comparisons = vec![reader.comparison()?];
    loop {
        reader.skip_spaces();
        if reader.at == text.len() {
            return Ok(Filter(comparisons));
        }
        let word = reader.word();
        if !word.eq_ignore_ascii_case("and") {
            return Err(Unsupported(format!(
                "expected `and` or the end of the filter after a comparison (found `{}`): this endpoint \
                 supports `eq` comparisons joined by `and`",
                found(word, &text[reader.at..])
            )));
        }
        comparisons.push(reader.comparison()?);
    }
}

/// Parses a PATCH path.
pub fn parse_path(text: &str) -> Result<PatchPath, Unsupported> {
    if text.len() > MAX_LENGTH {
        return Err(Unsupported(format!("expected a path of at most {MAX_LENGTH} bytes (found {})", text.len())));
    }
    let text = text.trim();
    let (head, filter, sub) = match text.find('[') {
        Some(open) => {
            let close = closing_bracket(text, open).ok_or_else(|| {
                Unsupported(format!("expected `]` closing the value filter in the path `{text}` (found none)"))
            })?;
            let filter = parse_filter(&text[open + 1..close])?;
            let rest = &text[close + 1..];
            let sub = match rest.strip_prefix('.') {
                Some(sub) => Some(attribute_name(sub, text)?.to_owned()),
                None if rest.is_empty() => None,
                None => {
                    return Err(Unsupported(format!(
                        "expected `.subAttribute` or the end after `]` in the path `{text}` (found `{rest}`)"
                    )))
                }
            };
            (&text[..open], Some(filter), sub)
        }
        None => (text, None, None),
    };
    let (schema, attr) = split_schema(head);
    let (attr, sub) = match (attr.split_once('.'), sub) {
        (Some(_), Some(_)) => {
            return Err(Unsupported(format!(
                "expected one sub-attribute in the path `{text}` (found one before and one after the filter)"
            )))
        }
        (Some((attr, inner)), None) if filter.is_none() => (attr, Some(attribute_name(inner, text)?.to_owned())),
        (Some(_), None) => {
            return Err(Unsupported(format!("expected the value filter right after the attribute in `{text}`")))
        }
        (None, sub) => (attr, sub),
    };
    Ok(PatchPath { schema, attr: attribute_name(attr, text)?.to_owned(), filter, sub })
}

/// Splits `urn:…:Schema:attr` into the schema and the attribute; a plain path has no schema.
fn split_schema(path: &str) -> (Option<String>, &str) {
    if path.get(..4).is_some_and(|start| start.eq_ignore_ascii_case("urn:")) {
        if let Some(colon) = path.rfind(':') {
            return (Some(path[..colon].to_owned()), &path[colon + 1..]);
        }
    }
    (None, path)
}

/// An attribute name (RFC 7643 §2.1: `ALPHA *(nameChar)`), or an error quoting the path.
fn attribute_name<'a>(name: &'a str, path: &str) -> Result<&'a str, Unsupported> {
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$');
    if valid {
        Ok(name)
    } else {
        Err(Unsupported(format!("expected an attribute name in `{path}` (found `{name}`)")))
    }
}

/// The index of the `]` closing the `[` at `open`, skipping brackets inside quoted strings.
fn closing_bracket(text: &str, open: usize) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text[open + 1..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ']' if !quoted => return Some(open + 1 + i),
            _ => {}
        }
    }
    None
}

/// The start of `rest` for an error message, at most 40 characters.
fn found<'a>(word: &'a str, rest: &'a str) -> &'a str {
    let shown = if word.is_empty() { rest } else { word };
    match shown.char_indices().nth(40) {
        Some((end, _)) => &shown[..end],
        None if shown.is_empty() => "the end",
        None => shown,
    }
}

struct Reader<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn skip_spaces(&mut self) {
        let rest = &self.text[self.at..];
        self.at += rest.len() - rest.trim_start_matches(' ').len();
    }

    /// The next run of characters up to a space (an attribute path, an operator, a keyword).
    fn word(&mut self) -> &'a str {
        self.skip_spaces();
        let rest = &self.text[self.at..];
        let end = rest.find(' ').unwrap_or(rest.len());
        self.at += end;
        &rest[..end]
    }

    fn comparison(&mut self) -> Result<Comparison, Unsupported> {
        self.skip_spaces();
        let rest = &self.text[self.at..];
        if rest.starts_with('(') || rest.to_ascii_lowercase().starts_with("not") && rest[3..].starts_with([' ', '(']) {
            return Err(Unsupported(format!(
                "expected an attribute (found `{}`): grouping and `not` are not supported, only `eq` \
                 comparisons joined by `and`",
                found("", rest)
            )));
        }
        let attr = self.word();
        if attr.is_empty() {
            return Err(Unsupported("expected an attribute, e.g. userName eq \"…\" (found the end)".into()));
        }
        if attr.contains(['[', ']', '(', ')', '"']) {
            return Err(Unsupported(format!(
                "expected a plain attribute path (found `{}`): complex filters are not supported",
                found(attr, "")
            )));
        }
        let (_, name) = split_schema(attr);
        for part in name.split('.') {
            attribute_name(part, attr)?;
        }
        let operator = self.word();
        if !operator.eq_ignore_ascii_case("eq") {
            let known = OTHER_OPERATORS.iter().any(|op| operator.eq_ignore_ascii_case(op));
            return Err(Unsupported(if known {
                format!("expected the operator `eq` after `{attr}` (found `{operator}`, which this endpoint does not support)")
            } else {
                format!("expected the operator `eq` after `{attr}` (found `{}`)", found(operator, ""))
            }));
        }
        Ok(Comparison { attr: attr.to_owned(), value: self.value(attr)? })
    }

    /// A comparison value: a JSON string, `true`, `false`, `null` or a number.
    fn value(&mut self, attr: &str) -> Result<Value, Unsupported> {
        self.skip_spaces();
        let rest = &self.text[self.at..];
        let end = if let Some(quoted) = rest.strip_prefix('"') {
            let mut escaped = false;
            let close = quoted.char_indices().find_map(|(i, c)| match c {
                _ if escaped => {
                    escaped = false;
                    None
                }
                '\\' => {
                    escaped = true;
                    None
                }
                '"' => Some(i + 2),
                _ => None,
            });
            close.ok_or_else(|| Unsupported(format!("expected a closing `\"` in the value compared with `{attr}`")))?
        } else {
            rest.find(' ').unwrap_or(rest.len())
        };
        let literal = &rest[..end];
        let value: Value = match literal.to_ascii_lowercase().as_str() {
            // SCIM's literals are case-insensitive; JSON's are not.
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ => serde_json::from_str(literal).map_err(|_| {
                Unsupported(format!(
                    "expected a quoted string, true, false, null or a number to compare `{attr}` with (found `{}`)",
                    found(literal, rest)
                ))
            })?,
        };
        if value.is_object() || value.is_array() {
            return Err(Unsupported(format!("expected a plain value to compare `{attr}` with (found `{literal}`)")));
        }
        self.at += end;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eq(attr: &str, value: Value) -> Comparison {
        Comparison { attr: attr.into(), value }
    }

    #[test]
    fn entra_filters_parse() {
        assert_eq!(
            parse_filter("userName eq \"Test_User_dfeef4c5@contoso.example\"").unwrap(),
            Filter(vec![eq("userName", json!("Test_User_dfeef4c5@contoso.example"))])
        );
        assert_eq!(
            parse_filter("externalId EQ \"a11ce000\" and active eq True").unwrap(),
            Filter(vec![eq("externalId", json!("a11ce000")), eq("active", json!(true))])
        );
        assert_eq!(
            parse_filter(r#"displayName eq "Say \"hi\" ] and or""#).unwrap(),
            Filter(vec![eq("displayName", json!("Say \"hi\" ] and or"))])
        );
        assert_eq!(
            parse_filter("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq 701984")
                .unwrap(),
            Filter(vec![eq(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                json!(701984)
            )])
        );
    }

    #[test]
    fn other_filters_are_refused_by_name() {
        for (filter, says) in [
            ("userName co \"a\"", "found `co`, which this endpoint does not support"),
            ("userName pr", "found `pr`"),
            ("userName eq \"a\" or userName eq \"b\"", "expected `and` or the end"),
            ("(userName eq \"a\")", "grouping and `not` are not supported"),
            ("not (userName eq \"a\")", "grouping and `not`"),
            ("emails[type eq \"work\"] eq \"x\"", "complex filters are not supported"),
            ("userName eq \"unterminated", "closing `\"`"),
            ("userName eq bare", "found `bare`"),
            ("userName eq", "(found `the end`)"),
            ("", "found the end"),
            ("1abc eq \"x\"", "expected an attribute name"),
            ("userName eq {\"a\":1}", "found `{\"a\":1}`"),
        ] {
            let error = parse_filter(filter).unwrap_err();
            assert!(error.0.contains(says), "{filter:?}: {error}");
        }
        assert!(parse_filter(&"a".repeat(MAX_LENGTH + 1)).unwrap_err().0.contains("at most 4096 bytes"));
    }

    #[test]
    fn entra_patch_paths_parse() {
        let path = |attr: &str, filter: Option<Filter>, sub: Option<&str>| PatchPath {
            schema: None,
            attr: attr.into(),
            filter,
            sub: sub.map(str::to_owned),
        };
        assert_eq!(parse_path("active").unwrap(), path("active", None, None));
        assert_eq!(parse_path("name.givenName").unwrap(), path("name", None, Some("givenName")));
        assert_eq!(
            parse_path("members[value eq \"b0b00000-0000-4000-8000-000000000002\"]").unwrap(),
            path("members", Some(Filter(vec![eq("value", json!("b0b00000-0000-4000-8000-000000000002"))])), None)
        );
        assert_eq!(
            parse_path("emails[type eq \"work\"].value").unwrap(),
            path("emails", Some(Filter(vec![eq("type", json!("work"))])), Some("value"))
        );
        // Found by `./dev fuzz`: a character of several bytes across the fourth byte.
        assert!(parse_path("iok\u{6e2}m:schemas:x").unwrap_err().0.contains("expected an attribute name"));
        let manager = parse_path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").unwrap();
        assert_eq!(manager.schema.as_deref(), Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert_eq!(manager.attr, "manager");
    }

    #[test]
    fn edges_of_the_grammar_hold() {
        // Lengths: up to the limit is read, one byte more is refused (filters and paths).
        let at_limit = format!("userName eq \"{}\"", "a".repeat(MAX_LENGTH - 14));
        assert_eq!(at_limit.len(), MAX_LENGTH);
        assert!(parse_filter(&at_limit).is_ok());
        let path_at_limit = "a".repeat(MAX_LENGTH);
        assert!(parse_path(&path_at_limit).is_ok());
        assert!(parse_path(&format!("{path_at_limit}a")).unwrap_err().0.contains("at most 4096 bytes"));
        assert!(
            parse_path("").unwrap_err().0.contains("expected an attribute name"),
            "an empty path is no length problem"
        );
        // Literals, in any case.
        assert_eq!(parse_filter("active eq FALSE").unwrap().0[0].value, json!(false));
        assert_eq!(parse_filter("title eq NULL").unwrap().0[0].value, Value::Null);
        // Attribute names: letters, digits, `_`, `-`, `$`; a bare `urn:` is an attribute name, not a schema.
        assert_eq!(parse_path("members[value eq \"x\"].$ref").unwrap().sub.as_deref(), Some("$ref"));
        assert_eq!(parse_path("x_y-z2").unwrap().attr, "x_y-z2");
        assert!(parse_path("a.b%").unwrap_err().0.contains("found `b%`"));
        assert!(parse_path("urn:").is_err());
        // A `]` or an escaped quote inside a quoted value does not end the value filter.
        let path = parse_path(r#"members[value eq "a]\"]b"].display"#).unwrap();
        assert_eq!(path.filter.unwrap().0[0].value, json!("a]\"]b"));
        assert_eq!(path.sub.as_deref(), Some("display"));
        assert!(parse_path(r#"members[value eq "a\"]"#).unwrap_err().0.contains("expected `]`"));
        // Outside quotes a backslash escapes nothing: the `]` after it closes the filter.
        assert!(parse_path(r"x[a\]").unwrap_err().0.contains("expected an attribute name"));
        // Errors print as their text.
        assert_eq!(Unsupported("expected x".into()).to_string(), "expected x");
    }

    #[test]
    fn broken_paths_are_refused() {
        for (path, says) in [
            ("members[value eq \"x\"", "expected `]`"),
            ("emails[type eq \"work\"]value", "expected `.subAttribute`"),
            ("name.givenName[type eq \"x\"]", "right after the attribute"),
            ("", "expected an attribute name"),
            ("a b", "expected an attribute name"),
            ("members[value co \"x\"]", "found `co`"),
        ] {
            let error = parse_path(path).unwrap_err();
            assert!(error.0.contains(says), "{path:?}: {error}");
        }
    }
}
