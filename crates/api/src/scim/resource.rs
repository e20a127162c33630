//! What the users' and groups' endpoints share: the request body, a list's query parameters
//! (filter, paging, attributes), and the ListResponse, `meta` and 201 they answer with.

use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::error::{respond, ScimError};
use super::filter;

/// The largest request body read: Entra's requests are a few kilobytes; a group's membership
/// changes come in batches well under this.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// The most resources one page of a list holds (`count` above this is lowered to it).
pub const MAX_PAGE: i64 = 200;

/// Where the endpoint is mounted.
pub const BASE: &str = "/scim/v2";

const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// Reads a JSON request body of at most [`MAX_BODY_BYTES`].
pub async fn read_json(body: Body) -> Result<Value, ScimError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| ScimError {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        scim_type: None,
        detail: format!("expected a request body of at most {MAX_BODY_BYTES} bytes (found more, or a broken body)"),
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ScimError::bad("invalidSyntax", format!("expected a JSON body (found invalid JSON: {e})")))
}

/// The query parameters of a list or read: `filter`, `startIndex`, `count`, `attributes`,
/// `excludedAttributes` (names compared case-insensitively; others are ignored).
#[derive(Debug, Default)]
pub struct Listing {
    /// The parsed filter.
    pub filter: Option<filter::Filter>,
    /// 1-based index of the first result.
    pub start_index: i64,
    /// The most results to return.
    pub count: i64,
    /// Attributes to return (besides `id` and `schemas`), when named.
    pub attributes: Option<Vec<String>>,
    /// Attributes to leave out.
    pub excluded: Vec<String>,
}

impl Listing {
    /// Reads the query parameters.
    pub fn read(params: &[(String, String)]) -> Result<Self, ScimError> {
        let get = |name: &str| params.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
        let number = |name: &str, default: i64| -> Result<i64, ScimError> {
            match get(name) {
                None => Ok(default),
                Some(text) => text.trim().parse().map_err(|_| {
                    ScimError::bad("invalidValue", format!("expected `{name}` to be a whole number (found `{text}`)"))
                }),
            }
        };
        let list = |name: &str| -> Vec<String> {
            get(name)
                .map(|text| text.split(',').map(|a| a.trim().to_owned()).filter(|a| !a.is_empty()).collect())
                .unwrap_or_default()
        };
        let filter =
            get("filter").map(filter::parse_filter).transpose().map_err(|e| ScimError::bad("invalidFilter", e.0))?;
        Ok(Self {
            filter,
            // RFC 7644 §3.4.2.4: below 1 is read as 1; a negative count as 0.
            start_index: number("startIndex", 1)?.max(1),
            count: number("count", MAX_PAGE)?.clamp(0, MAX_PAGE),
            attributes: get("attributes").map(|_| list("attributes")),
            excluded: list("excludedAttributes"),
        })
    }

    /// The filter's comparisons as criteria: `criterion` translates each, by the attribute's
    /// lower-cased name, or answers `None` for an attribute it does not filter on, which is an
    /// `invalidFilter` naming the `supported` ones.
    pub fn criteria<C>(
        &self,
        supported: &str,
        criterion: impl Fn(&str, &filter::Comparison) -> Result<Option<C>, ScimError>,
    ) -> Result<Vec<C>, ScimError> {
        let comparisons = self.filter.iter().flat_map(|f| &f.0);
        comparisons
            .map(|comparison| {
                criterion(&comparison.attr.to_ascii_lowercase(), comparison)?.ok_or_else(|| {
                    ScimError::bad(
                        "invalidFilter",
                        format!("expected a filter on {supported} (found `{}`)", comparison.attr),
                    )
                })
            })
            .collect()
    }

    /// Whether `attribute` is to be returned.
    pub fn returns(&self, attribute: &str) -> bool {
        let named = |list: &[String]| list.iter().any(|a| a.eq_ignore_ascii_case(attribute));
        !named(&self.excluded) && self.attributes.as_deref().is_none_or(named)
    }

    /// Drops what the caller asked not to see; `id` and `schemas` always stay.
    pub fn project(&self, mut resource: Map<String, Value>) -> Value {
        resource.retain(|key, _| key == "id" || key == "schemas" || self.returns(key));
        Value::Object(resource)
    }
}

/// A ListResponse of one page.
pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> Response {
    respond(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    )
}

/// A filter comparison's value as text, or an `invalidFilter` naming the attribute.
pub fn text_value(comparison: &filter::Comparison) -> Result<String, ScimError> {
    comparison.value.as_str().map(str::to_owned).ok_or_else(|| {
        ScimError::bad(
            "invalidFilter",
            format!("expected a quoted string to compare `{}` with (found {})", comparison.attr, comparison.value),
        )
    })
}

/// RFC 3339 time of `seconds` since the epoch, as SCIM's `meta` writes it.
pub fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The `meta` of a resource.
pub fn meta(kind: &str, id: &str, created: i64, modified: i64) -> Value {
    let endpoint = if kind == "User" { "Users" } else { "Groups" };
    json!({
        "resourceType": kind,
        "created": timestamp(created),
        "lastModified": timestamp(modified.max(created)),
        "location": format!("{BASE}/{endpoint}/{id}"),
    })
}

/// A 201 with `Location`.
pub fn created(resource: &Value) -> Response {
    let mut response = respond(StatusCode::CREATED, resource);
    if let Some(location) = resource["meta"]["location"].as_str().and_then(|l| HeaderValue::from_str(l).ok()) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
