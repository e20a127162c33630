//! Entra's provisioning service, played against a SCIM endpoint: what Entra sends for an
//! enterprise application with Provisioning → Automatic, in its order and shapes
//! (learn.microsoft.com: "Develop and plan provisioning for a SCIM endpoint", "How provisioning
//! works", and the SCIM compatibility notes).
//!
//! - The first cycle of a job (tenant, app, SCIM URL) is the initial one: a probe for a user
//!   that cannot exist, then each user in scope looked up by `userName` and created or patched,
//!   then each group looked up by `displayName` (members excluded) and created empty, and its
//!   members added by PATCH.
//! - Later cycles are incremental: only what changed since the last one is sent. A user taken
//!   out of scope (unassigned from the app) is disabled with `active` as the string `"False"`,
//!   as Entra sends it; members leave a group as `members[value eq "…"]`.
//! - Attribute mappings are the ones docs/entra-setup.md tells admins to keep: userPrincipalName
//!   → userName (matching), objectId → externalId, displayName, givenName, surname, mail, and
//!   `Switch([IsSoftDeleted], …)` → active; for groups displayName (matching), objectId →
//!   externalId, members.
//!
//! Started by `POST /_emulator/provisioning/cycle` (see [`crate::control`]); SCIM URLs must be
//! on loopback.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use serde_json::{json, Value};

use crate::directory::{Tenant, User};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Entra names this schema in `POST /Groups` too.
const AD_GROUP_SCHEMA: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// How many members one PATCH adds.
const MEMBERS_PER_PATCH: usize = 100;

/// Which provisioning job: a tenant's enterprise app pushing to one SCIM endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobKey {
    /// The tenant id.
    pub tenant: String,
    /// The enterprise application (client id).
    pub app_id: String,
    /// The tenant URL, e.g. `http://127.0.0.1:9300/scim/v2`.
    pub scim_url: String,
}

/// What a job remembers between cycles (Entra's watermark and id cache).
#[derive(Debug, Default)]
pub struct Watermark {
    /// User object id → (SCIM id, the attributes last sent).
    users: HashMap<String, (String, BTreeMap<String, Value>)>,
    /// Group object id → (SCIM id, display name, SCIM ids of its members).
    groups: HashMap<String, (String, String, BTreeSet<String>)>,
}

/// One request of a cycle and its answer.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    /// The method.
    pub method: String,
    /// Path and query, below the tenant URL.
    pub path: String,
    /// The status answered (0: no answer).
    pub status: u16,
}

/// What a cycle did, as the provisioning logs would show it.
#[derive(Debug, Default, Serialize)]
pub struct CycleReport {
    /// `initial` or `incremental`.
    pub cycle: &'static str,
    /// Every request, in order.
    pub requests: Vec<Sent>,
    /// Users created.
    pub created_users: usize,
    /// Users updated (including disables).
    pub updated_users: usize,
    /// Users disabled.
    pub disabled_users: usize,
    /// Groups created.
    pub created_groups: usize,
    /// Groups updated (names, members).
    pub updated_groups: usize,
    /// Requests the endpoint refused, with its answer; Entra retries these next cycle.
    pub failures: Vec<String>,
}

/// A cycle's run: the HTTP client, the endpoint, and the report being written.
struct Run<'a> {
    http: reqwest::Client,
    base: &'a str,
    token: &'a str,
    report: CycleReport,
}

impl Run<'_> {
    /// Sends one request; answers the JSON body of a success, or records the failure.
    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<Value>,
    ) -> Option<Value> {
        let mut request =
            self.http.request(method.clone(), format!("{}{path}", self.base)).bearer_auth(self.token).query(query);
        if let Some(body) = &body {
            request = request.header("Content-Type", "application/scim+json").body(body.to_string());
        }
        let shown = match query {
            [] => path.to_owned(),
            query => format!(
                "{path}?{}",
                query.iter().map(|(key, value)| format!("{key}={value}")).collect::<Vec<_>>().join("&")
            ),
        };
        let answer = request.send().await;
        let (status, text) = match answer {
            Ok(response) => (response.status().as_u16(), response.text().await.unwrap_or_default()),
            Err(error) => (0, error.to_string()),
        };
        self.report.requests.push(Sent { method: method.to_string(), path: shown.clone(), status });
        if (200..300).contains(&status) {
            return Some(serde_json::from_str(&text).unwrap_or(Value::Null));
        }
        self.report.failures.push(format!("{method} {shown}: {status} {text}"));
        None
    }

    /// `GET …?filter=<attr> eq "<value>"`: the id of the one match, if any (`Err` on failure).
    async fn find(
        &mut self,
        endpoint: &str,
        attr: &str,
        value: &str,
        extra: &[(&str, String)],
    ) -> Result<Option<Value>, ()> {
        let mut query = extra.to_vec();
        query.push(("filter", format!("{attr} eq \"{}\"", value.replace('"', "\\\""))));
        let found = self.send(reqwest::Method::GET, endpoint, &query, None).await.ok_or(())?;
        Ok(found["Resources"].as_array().and_then(|r| r.first()).cloned())
    }
}

/// The attributes Entra's default mappings send for `user`, by SCIM path.
fn user_attributes(user: &User, active: bool) -> BTreeMap<String, Value> {
    let mut attributes = BTreeMap::new();
    attributes.insert("userName".to_owned(), json!(user.upn));
    attributes.insert("externalId".to_owned(), json!(user.oid));
    attributes.insert("displayName".to_owned(), json!(user.name));
    attributes.insert("active".to_owned(), json!(active));
    if let Some(given) = &user.given_name {
        attributes.insert("name.givenName".to_owned(), json!(given));
    }
    if let Some(family) = &user.family_name {
        attributes.insert("name.familyName".to_owned(), json!(family));
    }
    if let Some(mail) = &user.email {
        attributes.insert("emails[type eq \"work\"].value".to_owned(), json!(mail));
    }
    attributes
}

/// The `POST /Users` body for those attributes.
fn create_body(attributes: &BTreeMap<String, Value>) -> Value {
    let text = |path: &str| attributes.get(path).cloned().unwrap_or(Value::Null);
    let formatted = [text("name.givenName"), text("name.familyName")]
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect::<Vec<_>>()
        .join(" ");
    let mut body = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
        "externalId": text("externalId"),
        "userName": text("userName"),
        "active": text("active"),
        "displayName": text("displayName"),
        "meta": { "resourceType": "User" },
        "name": { "formatted": formatted, "familyName": text("name.familyName"), "givenName": text("name.givenName") },
        "roles": [],
    });
    if let Some(mail) = attributes.get("emails[type eq \"work\"].value") {
        body["emails"] = json!([{ "primary": true, "type": "work", "value": mail }]);
    }
    body
}

/// What a SCIM resource holds at one of [`user_attributes`]' paths.
fn read_path(resource: &Value, path: &str) -> Value {
    match path.split_once('.') {
        Some(("name", sub)) => resource["name"][sub].clone(),
        Some(("emails[type eq \"work\"]", "value")) => resource["emails"]
            .as_array()
            .and_then(|emails| emails.iter().find(|e| e["type"] == "work"))
            .map_or(Value::Null, |e| e["value"].clone()),
        _ => resource[path].clone(),
    }
}

/// A PATCH of the attributes that differ, as Entra writes it (`Replace`, booleans as strings).
fn patch_body(changes: &[(&String, &Value)]) -> Value {
    let operations: Vec<Value> = changes
        .iter()
        .map(|(path, value)| {
            let value = match value {
                Value::Bool(true) => json!("True"),
                Value::Bool(false) => json!("False"),
                other => (*other).clone(),
            };
            json!({ "op": "Replace", "path": path, "value": value })
        })
        .collect();
    json!({ "schemas": [PATCH_SCHEMA], "Operations": operations })
}

/// Whether the job's scope holds `user`: assigned users when the app has assignments ("Sync
/// only assigned users and groups"), every user otherwise ("Sync all users and groups"); never
/// one taken out of scope by a control.
fn in_scope(tenant: &Tenant, app_id: &str, user: &User, out_of_scope: &BTreeSet<String>) -> bool {
    let assigned = &tenant.enterprise_app(app_id).assigned;
    let assigned = assigned.is_empty() || assigned.iter().any(|id| *id == user.oid || user.member_of.contains(id));
    assigned && !out_of_scope.contains(&user.oid)
}

/// Runs one cycle of the job `key` for `tenant`, remembering what it sent in `watermark`.
pub async fn cycle(
    tenant: &Tenant,
    key: &JobKey,
    token: &str,
    out_of_scope: &BTreeSet<String>,
    watermark: &mut Watermark,
) -> CycleReport {
    let initial = watermark.users.is_empty() && watermark.groups.is_empty();
    let mut run = Run {
        http: reqwest::Client::new(),
        base: key.scim_url.trim_end_matches('/'),
        token,
        report: CycleReport { cycle: if initial { "initial" } else { "incremental" }, ..CycleReport::default() },
    };
    if initial {
        // Test Connection, and the start of every job: a user who cannot exist, expected absent.
        let probe = format!("{:032x}", rand::random::<u128>());
        if run.find("/Users", "userName", &probe, &[]).await.is_err() {
            return run.report;
        }
    }
    for user in &tenant.users {
        let active = in_scope(tenant, &key.app_id, user, out_of_scope);
        let wanted = user_attributes(user, active);
        let (id, current) = match watermark.users.get(&user.oid) {
            Some((id, sent)) => (id.clone(), sent.clone()),
            None if !active => continue, // never provisioned, and not in scope: nothing to do
            None => match run.find("/Users", "userName", &user.upn, &[]).await {
                Err(()) => continue,
                Ok(Some(found)) if found["id"].is_string() => {
                    let current = wanted.keys().map(|path| (path.clone(), read_path(&found, path))).collect();
                    (found["id"].as_str().unwrap_or_default().to_owned(), current)
                }
                Ok(_) => {
                    let Some(created) =
                        run.send(reqwest::Method::POST, "/Users", &[], Some(create_body(&wanted))).await
                    else {
                        continue;
                    };
                    run.report.created_users += 1;
                    let id = created["id"].as_str().unwrap_or_default().to_owned();
                    watermark.users.insert(user.oid.clone(), (id, wanted));
                    continue;
                }
            },
        };
        let changes: Vec<(&String, &Value)> =
            wanted.iter().filter(|(path, value)| current.get(*path) != Some(value)).collect();
        if changes.is_empty() {
            watermark.users.insert(user.oid.clone(), (id, wanted));
            continue;
        }
        let disables = changes.iter().any(|(path, value)| *path == "active" && **value == json!(false));
        if run.send(reqwest::Method::PATCH, &format!("/Users/{id}"), &[], Some(patch_body(&changes))).await.is_some() {
            run.report.updated_users += 1;
            run.report.disabled_users += usize::from(disables);
            watermark.users.insert(user.oid.clone(), (id, wanted));
        }
    }
    // Groups after users: their members are referred to by the SCIM ids just learnt.
    for group in &tenant.groups {
        let members: BTreeSet<String> = tenant
            .users
            .iter()
            .filter(|user| user.member_of.contains(&group.id))
            .filter_map(|user| watermark.users.get(&user.oid).map(|(id, _)| id.clone()))
            .collect();
        if members.is_empty() && !watermark.groups.contains_key(&group.id) {
            continue;
        }
        let (id, name, current) = match watermark.groups.get(&group.id) {
            Some(known) => known.clone(),
            None => {
                let exclude = [("excludedAttributes", "members".to_owned())];
                match run.find("/Groups", "displayName", &group.display_name, &exclude).await {
                    Err(()) => continue,
                    Ok(Some(found)) if found["id"].is_string() => (
                        found["id"].as_str().unwrap_or_default().to_owned(),
                        group.display_name.clone(),
                        BTreeSet::new(),
                    ),
                    Ok(_) => {
                        let body = json!({
                            "schemas": [GROUP_SCHEMA, AD_GROUP_SCHEMA],
                            "externalId": group.id,
                            "displayName": group.display_name,
                            "meta": { "resourceType": "Group" },
                        });
                        let Some(created) = run.send(reqwest::Method::POST, "/Groups", &[], Some(body)).await else {
                            continue;
                        };
                        run.report.created_groups += 1;
                        (
                            created["id"].as_str().unwrap_or_default().to_owned(),
                            group.display_name.clone(),
                            BTreeSet::new(),
                        )
                    }
                }
            }
        };
        let mut operations = Vec::new();
        if name != group.display_name {
            operations.push(json!({ "op": "Replace", "path": "displayName", "value": group.display_name }));
        }
        let added: Vec<&String> = members.difference(&current).collect();
        for chunk in added.chunks(MEMBERS_PER_PATCH) {
            let value: Vec<Value> = chunk.iter().map(|id| json!({ "$ref": null, "value": id })).collect();
            operations.push(json!({ "op": "Add", "path": "members", "value": value }));
        }
        for gone in current.difference(&members) {
            operations.push(json!({ "op": "Remove", "path": format!("members[value eq \"{gone}\"]") }));
        }
        let mut sent_all = true;
        for batch in operations.chunks(MEMBERS_PER_PATCH) {
            let body = json!({ "schemas": [PATCH_SCHEMA], "Operations": batch });
            sent_all &= run.send(reqwest::Method::PATCH, &format!("/Groups/{id}"), &[], Some(body)).await.is_some();
        }
        if !operations.is_empty() && sent_all {
            run.report.updated_groups += 1;
        }
        if sent_all {
            watermark.groups.insert(group.id.clone(), (id, group.display_name.clone(), members));
        }
    }
    run.report
}
