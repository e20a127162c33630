//! What a request does to a group's members, folded into one net change: pure, and linear in the
//! members it names, whatever the group's size. An "All employees" group of 100 000 members is
//! normal; a PATCH that adds a batch of them must not read, compare or rewrite the others.
//!
//! The store applies the change in one transaction, in batches ([`super::store`]). Members are
//! SCIM user ids (Entra object ids); one that names no provisioned user yet is kept like any
//! other (docs/security.md, "Provisioned memberships"): it takes effect for whoever signs in or
//! is provisioned with that object id, so one unprovisioned member never blocks the rest.

use std::collections::HashSet;

use channels_protocol::claims::is_guid;
use serde_json::Value;

use super::filter::PatchPath;
use super::patch::{Op, Operation, Refusal, GROUP_SCHEMA};

/// The most operations one PATCH may carry. No Microsoft source gives a limit for Entra's
/// provisioning service (Microsoft asks only that one PATCH may change several memberships).
pub const MAX_OPERATIONS: usize = 1_000;

/// The most member values one request may name (a PATCH's operations together, or a POST or
/// PUT of a group). 5 000 member values fit well inside the body limit.
pub const MAX_MEMBERS: usize = 5_000;

/// A group's members after a request, relative to before.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MembershipChange {
    /// Whether every member is removed first (a `replace` of `members`, or a `remove` of them all).
    pub clear: bool,
    /// Members to add, in the order first named.
    pub add: Vec<String>,
    /// Members to remove.
    pub remove: Vec<String>,
}

impl MembershipChange {
    /// A change that makes `members` the whole list (a POST or PUT that lists them).
    pub fn replace_with(members: Vec<String>) -> Result<Self, Refusal> {
        let mut fold = Fold::default();
        fold.replace(members)?;
        Ok(fold.finish())
    }

    /// Splits a PATCH: what it does to `members`, folded in order, and the operations on the
    /// group's other attributes, left for [`super::patch::Kind::apply`].
    pub fn split(operations: Vec<Operation>) -> Result<(Self, Vec<Operation>), Refusal> {
        if operations.len() > MAX_OPERATIONS {
            return Err(Refusal {
                scim_type: "tooMany",
                detail: format!(
                    "expected at most {MAX_OPERATIONS} operations in one PATCH (found {}): send them in several requests",
                    operations.len()
                ),
            });
        }
        let mut fold = Fold::default();
        let mut others = Vec::new();
        for operation in operations {
            match &operation.path {
                Some(path) if names_members(path.schema.as_deref(), &path.attr) => {
                    fold.apply(operation.op, path, operation.value.as_ref())?;
                }
                None => {
                    // `{"op": "replace", "value": {"displayName": …, "members": […]}}`.
                    let mut value = operation.value.clone().unwrap_or_default();
                    let members = value.as_object_mut().and_then(|attributes| {
                        let key = attributes.keys().find(|key| match key.rsplit_once(':') {
                            Some((schema, attr)) => names_members(Some(schema), attr),
                            None => names_members(None, key),
                        });
                        attributes.remove(&key.cloned()?)
                    });
                    if let Some(members) = members {
                        let whole = PatchPath { schema: None, attr: "members".into(), filter: None, sub: None };
                        fold.apply(operation.op, &whole, Some(&members))?;
                    }
                    if value.as_object().is_some_and(|attributes| !attributes.is_empty()) {
                        others.push(Operation { value: Some(value), ..operation });
                    }
                }
                Some(_) => others.push(operation),
            }
        }
        Ok((fold.finish(), others))
    }
}

/// Whether `[schema:]attr` is the Group's `members` (`members`, or the core Group schema's).
fn names_members(schema: Option<&str>, attr: &str) -> bool {
    attr.eq_ignore_ascii_case("members") && schema.is_none_or(|schema| schema.eq_ignore_ascii_case(GROUP_SCHEMA))
}

/// The change being folded: each member costs O(1), whatever came before. The lists keep the
/// order members were first named; the sets say which of them are still to be added or removed.
#[derive(Default)]
struct Fold {
    clear: bool,
    added: Vec<String>,
    to_add: HashSet<String>,
    removed: Vec<String>,
    to_remove: HashSet<String>,
    /// Member values named so far, against [`MAX_MEMBERS`].
    named: usize,
}

impl Fold {
    fn apply(&mut self, op: Op, path: &PatchPath, value: Option<&Value>) -> Result<(), Refusal> {
        if let Some(sub) = &path.sub {
            return Err(Refusal {
                scim_type: "invalidPath",
                detail: format!("expected `members` or `members[value eq \"…\"]` (found `members.{sub}`)"),
            });
        }
        match (op, &path.filter) {
            (Op::Remove, Some(filter)) => {
                // Entra's `members[value eq "…"]`.
                let [comparison] = filter.0.as_slice() else {
                    return Err(member_filter(filter.0.len()));
                };
                if !comparison.attr.eq_ignore_ascii_case("value") {
                    return Err(member_filter(0));
                }
                let id = comparison.value.as_str().ok_or_else(|| member_filter(0))?;
                self.remove(vec![member_id(id)?])
            }
            (_, Some(_)) => Err(Refusal {
                scim_type: "invalidPath",
                detail: format!("expected a filter on members only to remove one (found {op:?} with a filter)"),
            }),
            // `{"op": "remove", "path": "members", "value": [{"value": "…"}]}`.
            (Op::Remove, None) if value.is_some_and(|v| !v.is_null()) => {
                self.remove(member_ids(value.unwrap_or(&Value::Null))?)
            }
            (Op::Remove, None) => self.replace(Vec::new()),
            (Op::Replace, None) => self.replace(member_ids(value.unwrap_or(&Value::Null))?),
            (Op::Add, None) => self.add(member_ids(value.unwrap_or(&Value::Null))?),
        }
    }

    fn count(&mut self, more: usize) -> Result<(), Refusal> {
        self.named += more;
        count(self.named)
    }

    fn add(&mut self, members: Vec<String>) -> Result<(), Refusal> {
        self.count(members.len())?;
        for member in members {
            self.to_remove.remove(&member);
            if self.to_add.insert(member.clone()) {
                self.added.push(member);
            }
        }
        Ok(())
    }

    fn remove(&mut self, members: Vec<String>) -> Result<(), Refusal> {
        self.count(members.len())?;
        for member in members {
            self.to_add.remove(&member);
            if self.to_remove.insert(member.clone()) {
                self.removed.push(member);
            }
        }
        Ok(())
    }

    /// Every member goes first, then `members` are added.
    fn replace(&mut self, members: Vec<String>) -> Result<(), Refusal> {
        let named = self.named;
        *self = Self { clear: true, named, ..Self::default() };
        self.add(members)
    }

    fn finish(self) -> MembershipChange {
        let Self { clear, added, mut to_add, removed, mut to_remove, .. } = self;
        // A member named again after leaving a list is in it twice: kept where first named.
        let add = added.into_iter().filter(|m| to_add.remove(m)).collect();
        let remove = removed.into_iter().filter(|m| to_remove.remove(m)).collect();
        MembershipChange { clear, add, remove }
    }
}

/// Checks member values named so far against [`MAX_MEMBERS`].
fn count(named: usize) -> Result<(), Refusal> {
    if named > MAX_MEMBERS {
        return Err(Refusal {
            scim_type: "tooMany",
            detail: format!(
                "expected at most {MAX_MEMBERS} member values in one request (found more): send them in several PATCHes"
            ),
        });
    }
    Ok(())
}

fn member_filter(comparisons: usize) -> Refusal {
    Refusal {
        scim_type: "invalidFilter",
        detail: format!(
            "expected members[value eq \"<user id>\"] (found a filter of {comparisons} comparison(s), or on \
             another attribute)"
        ),
    }
}

/// The member ids of a `members` value: `[{"value": "…"}, …]`, or one such object.
pub fn member_ids(members: &Value) -> Result<Vec<String>, Refusal> {
    let list = match members {
        Value::Array(list) => list.as_slice(),
        Value::Object(_) => std::slice::from_ref(members),
        other => {
            return Err(Refusal {
                scim_type: "invalidValue",
                detail: format!("expected members to be a list of {{\"value\": \"<user id>\"}} (found {other})"),
            })
        }
    };
    list.iter()
        .map(|member| match member.get("value") {
            Some(Value::String(id)) => member_id(id),
            _ => Err(Refusal {
                scim_type: "invalidValue",
                detail: format!("expected each member as {{\"value\": \"<user id>\"}} (found {member})"),
            }),
        })
        .collect()
}

/// A member id: a user's SCIM id here is their Entra object id, a GUID.
fn member_id(id: &str) -> Result<String, Refusal> {
    if is_guid(id) {
        Ok(id.to_ascii_lowercase())
    } else {
        Err(Refusal {
            scim_type: "invalidValue",
            detail: format!(
                "expected a member's value to be a user id of this endpoint, the user's object id (a GUID) (found `{id}`)"
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::patch::operations;
    use serde_json::json;

    const A: &str = "a0000000-0000-4000-8000-000000000001";
    const B: &str = "b0000000-0000-4000-8000-000000000002";
    const C: &str = "c0000000-0000-4000-8000-000000000003";

    fn split(ops: Value) -> Result<(MembershipChange, Vec<Operation>), Refusal> {
        let body = json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops });
        MembershipChange::split(operations(&body).unwrap())
    }

    fn members(ids: &[&str]) -> Value {
        Value::Array(ids.iter().map(|id| json!({ "value": id })).collect())
    }

    #[test]
    fn entras_membership_operations_fold_into_one_net_change_in_order() {
        let (change, others) = split(json!([
            { "op": "Add", "path": "members", "value": members(&[A, B]) },
            { "op": "Remove", "path": format!("members[value eq \"{}\"]", B.to_uppercase()) },
            { "op": "remove", "path": "members", "value": members(&[C]) },
            { "op": "Replace", "path": "displayName", "value": "Renamed" },
        ]))
        .unwrap();
        assert_eq!(change, MembershipChange { clear: false, add: vec![A.into()], remove: vec![B.into(), C.into()] });
        assert_eq!(others.len(), 1, "displayName is left for the resource");
        let (change, _) = split(json!([
            { "op": "remove", "path": "members", "value": members(&[A]) },
            { "op": "add", "path": "members", "value": members(&[A, A]) },
        ]))
        .unwrap();
        assert_eq!(change, MembershipChange { clear: false, add: vec![A.into()], remove: vec![] }, "re-added");
        let (change, _) = split(json!([
            { "op": "add", "path": "members", "value": members(&[A]) },
            { "op": "remove", "path": "members" },
            { "op": "add", "path": "members", "value": members(&[B]) },
        ]))
        .unwrap();
        assert_eq!(
            change,
            MembershipChange { clear: true, add: vec![B.into()], remove: vec![] },
            "all removed, then B"
        );
        let (change, others) =
            split(json!([{ "op": "replace", "value": { "displayName": "X", "members": members(&[C]) } }])).unwrap();
        assert_eq!(change, MembershipChange { clear: true, add: vec![C.into()], remove: vec![] });
        assert_eq!(others[0].value, Some(json!({ "displayName": "X" })));
        assert_eq!(
            split(json!([{ "op": "replace", "path": "displayName", "value": "Y" }])).unwrap().0,
            MembershipChange::default()
        );
        // The core schema's URN before `members`, as a path or as a key.
        let (change, others) = split(json!([
            { "op": "add", "path": format!("{GROUP_SCHEMA}:members"), "value": members(&[A]) },
            { "op": "add", "value": { format!("{}:Members", GROUP_SCHEMA.to_uppercase()): members(&[B]) } },
        ]))
        .unwrap();
        assert_eq!((change.add, others.len()), (vec![A.to_owned(), B.to_owned()], 0));
        let (change, _) = split(json!([
            { "op": "add", "path": "members", "value": members(&[A, B]) },
            { "op": "remove", "path": "members", "value": members(&[A]) },
            { "op": "add", "path": "members", "value": members(&[A]) },
            { "op": "remove", "path": "members", "value": members(&[B]) },
        ]))
        .unwrap();
        assert_eq!(change, MembershipChange { clear: false, add: vec![A.into()], remove: vec![B.into()] });
    }

    #[test]
    fn caps_and_bad_members_are_refused_by_name() {
        let many: Vec<String> = (0..=MAX_MEMBERS).map(|i| format!("a0000000-0000-4000-8000-{i:012}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let error = split(json!([{ "op": "add", "path": "members", "value": members(&refs) }])).unwrap_err();
        assert_eq!(error.scim_type, "tooMany");
        assert!(error.detail.contains(&format!("at most {MAX_MEMBERS} member values")), "{error:?}");
        let under = split(json!([{ "op": "add", "path": "members", "value": members(&refs[1..]) }]));
        assert_eq!(under.unwrap().0.add.len(), MAX_MEMBERS);
        let ops: Vec<Value> =
            (0..=MAX_OPERATIONS).map(|_| json!({ "op": "add", "path": "members", "value": members(&[A]) })).collect();
        let error = split(Value::Array(ops)).unwrap_err();
        assert_eq!(error.scim_type, "tooMany");
        assert!(error.detail.contains(&format!("at most {MAX_OPERATIONS} operations")), "{error:?}");
        let error = split(json!([{ "op": "add", "path": "members", "value": [{ "value": "jyoung" }] }])).unwrap_err();
        assert_eq!((error.scim_type, error.detail.contains("found `jyoung`")), ("invalidValue", true));
        let error = split(json!([{ "op": "add", "path": "members", "value": "x" }])).unwrap_err();
        assert_eq!(error.scim_type, "invalidValue");
        let error = split(json!([{ "op": "remove", "path": "members[display eq \"x\"]" }])).unwrap_err();
        assert_eq!(error.scim_type, "invalidFilter");
        let error = split(json!([{ "op": "replace", "path": "members.value", "value": A }])).unwrap_err();
        assert_eq!(error.scim_type, "invalidPath");
    }
}
