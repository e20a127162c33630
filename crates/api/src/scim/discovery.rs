//! What the endpoint supports, in SCIM's own terms (RFC 7643 §5–§7): PATCH yes; bulk, sort,
//! ETags and password changes no; filters of `eq` joined by `and`; a bearer token.

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::error::{respond, ScimError};
use super::patch::{Attribute, Kind, ENTERPRISE_SCHEMA, GROUP, GROUP_SCHEMA, USER, USER_SCHEMA};
use super::resource::{list_response, BASE, MAX_PAGE};

/// RFC 7644 §4: a filter on these endpoints SHOULD be answered 403.
fn no_filter(params: &[(String, String)]) -> Result<(), ScimError> {
    if params.iter().any(|(key, _)| key.eq_ignore_ascii_case("filter")) {
        return Err(ScimError {
            status: StatusCode::FORBIDDEN,
            scim_type: None,
            detail: "expected no filter on a discovery endpoint (found one; RFC 7644 §4)".into(),
        });
    }
    Ok(())
}

/// `GET /ServiceProviderConfig`.
pub async fn service_provider_config(Query(params): Query<Vec<(String, String)>>) -> Result<Response, ScimError> {
    no_filter(&params)?;
    Ok(respond(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": MAX_PAGE },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": false },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "Bearer token",
                "description": "A token made by `channels-api scim-token create`, sent as `Authorization: Bearer <token>`",
                "specUri": "https://www.rfc-editor.org/info/rfc6750",
                "primary": true
            }],
            "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{BASE}/ServiceProviderConfig") }
        }),
    ))
}

fn resource_type_of(kind: &Kind) -> Value {
    let mut resource = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": kind.name,
        "name": kind.name,
        "endpoint": format!("/{}s", kind.name),
        "description": if kind.name == "User" { "A member of Channels" } else { "A group whose members may be granted channels" },
        "schema": kind.schema,
        "meta": { "resourceType": "ResourceType", "location": format!("{BASE}/ResourceTypes/{}", kind.name) }
    });
    if let Some((urn, _)) = kind.extension {
        resource["schemaExtensions"] = json!([{ "schema": urn, "required": false }]);
    }
    resource
}

/// `GET /ResourceTypes`.
pub async fn resource_types(Query(params): Query<Vec<(String, String)>>) -> Result<Response, ScimError> {
    no_filter(&params)?;
    Ok(list_response(2, 1, vec![resource_type_of(&USER), resource_type_of(&GROUP)]))
}

/// `GET /ResourceTypes/{name}`.
pub async fn resource_type(Path(name): Path<String>) -> Result<Response, ScimError> {
    [USER, GROUP]
        .iter()
        .find(|kind| kind.name.eq_ignore_ascii_case(&name))
        .map(|kind| respond(StatusCode::OK, &resource_type_of(kind)))
        .ok_or_else(|| ScimError::not_found("ResourceType", &name))
}

fn schema_of(id: &str, name: &str, description: &str, attributes: &[Attribute]) -> Value {
    let attributes: Vec<Value> = attributes
        .iter()
        .map(|&Attribute { name, kind, multi_valued, required, uniqueness, mutability }| {
            let mut attribute = json!({
                "name": name,
                "type": kind,
                "multiValued": multi_valued,
                "required": required,
                "caseExact": name == "externalId",
                "mutability": mutability,
                "returned": "default",
                "uniqueness": uniqueness,
            });
            if kind == "complex" {
                let subs: &[&str] = match name {
                    "name" => &["formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix"],
                    "manager" => &["value", "$ref", "displayName"],
                    "members" => &["value", "$ref", "display"],
                    "addresses" => &["formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary"],
                    _ => &["value", "display", "type", "primary"],
                };
                attribute["subAttributes"] = Value::Array(
                    subs.iter()
                        .map(|sub| {
                            let kind = match *sub {
                                "primary" => "boolean",
                                "$ref" => "reference",
                                _ => "string",
                            };
                            json!({ "name": sub, "type": kind, "multiValued": false, "required": false,
                                    "caseExact": false, "mutability": "readWrite", "returned": "default", "uniqueness": "none" })
                        })
                        .collect(),
                );
            }
            attribute
        })
        .collect();
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": description,
        "attributes": attributes,
        "meta": { "resourceType": "Schema", "location": format!("{BASE}/Schemas/{id}") }
    })
}

fn all_schemas() -> [Value; 3] {
    [
        schema_of(USER_SCHEMA, "User", "User Account", USER.attributes),
        schema_of(ENTERPRISE_SCHEMA, "EnterpriseUser", "Enterprise User", USER.extension.map_or(&[], |(_, a)| a)),
        schema_of(GROUP_SCHEMA, "Group", "Group", GROUP.attributes),
    ]
}

/// `GET /Schemas`.
pub async fn schemas(Query(params): Query<Vec<(String, String)>>) -> Result<Response, ScimError> {
    no_filter(&params)?;
    Ok(list_response(3, 1, all_schemas().into()))
}

/// `GET /Schemas/{urn}`.
pub async fn schema(Path(id): Path<String>) -> Result<Response, ScimError> {
    all_schemas()
        .into_iter()
        .find(|schema| schema["id"].as_str().is_some_and(|s| s.eq_ignore_ascii_case(&id)))
        .map(|schema| respond(StatusCode::OK, &schema))
        .ok_or_else(|| ScimError::not_found("Schema", &id))
}
