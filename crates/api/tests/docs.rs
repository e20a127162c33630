//! The docs cannot rot: the troubleshooting table is generated from the same sources the SPA
//! and the API use, the configuration reference names every key, and every `sh` block in docs/
//! runs (against the built `channels-api`; a document's blocks run in order, in one directory). Regenerate the table with
//! `UPDATE_DOCS=1 cargo test -p channels-api --test docs`.

use std::path::{Path, PathBuf};
use std::process::Command;

use channels_api::auth::TokenError;
use channels_api::channels::ProvisionedGroup;
use channels_api::config::ApiConfig;
use channels_protocol::callback::CallbackError;
use channels_protocol::provider_error::KNOWN_ERRORS;
use channels_protocol::token::IdTokenError;

fn docs() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ").replace('<', "&lt;").replace('>', "&gt;")
}

fn troubleshooting() -> String {
    let mut out = String::from(
        "# Troubleshooting\n\n\
         Generated from the sources the SPA and the API show their messages from \
         (`channels_protocol::provider_error::KNOWN_ERRORS`, `IdTokenError`, `CallbackError`, `TokenError`, \
         the channel notices) by \
         `UPDATE_DOCS=1 cargo test -p channels-api --test docs`; a test fails when this file and \
         they differ.\n\n\
         ## Sign-in errors from Entra (shown by the SPA)\n\n\
         | code | what the user sees | fix |\n|---|---|---|\n",
    );
    for known in KNOWN_ERRORS {
        let codes: Vec<String> = known.codes.iter().map(|c| format!("AADSTS{c}")).collect();
        out += &format!("| {} | {} | {} |\n", codes.join(", "), cell(known.meaning), cell(known.fix));
    }
    out += "\n## Refusals by the API (`error` in the JSON body; HTTP status)\n\n\
            | error | status | message (example) | fix |\n|---|---|---|---|\n";
    for error in TokenError::catalogue() {
        let status = match error {
            TokenError::Scope { .. } => "403",
            TokenError::KeysUnavailable(_) => "503",
            _ => "401",
        };
        let message = error.public_message();
        out +=
            &format!("| `{}` | {status} | {} | {} |\n", error.code(), cell(&message), cell(error.fix().unwrap_or("—")));
    }
    let refusals = [
        ("401", channels_api::error::step_up("c1", &[])),
        ("403", channels_api::error::step_up_unavailable("<tenant id>")),
        ("403", channels_api::error::disabled()),
    ];
    for (status, body) in refusals {
        out += &format!(
            "| `{}` | {status} | {} | {} |\n",
            body.error,
            cell(&body.message),
            cell(body.fix.as_deref().unwrap_or("—"))
        );
    }
    out += "\n## Sign-in responses the SPA refuses (before any call to the API)\n\n\
            | what the user sees (example) | fix |\n|---|---|\n";
    let found = || "<found>".to_owned();
    let expected = || "<expected>".to_owned();
    let id_token_errors = [
        IdTokenError::Malformed("<why>".into()),
        IdTokenError::Issuer { expected: expected(), found: found() },
        IdTokenError::Tenant { expected: expected(), found: found() },
        IdTokenError::Audience { expected: expected(), found: found() },
        IdTokenError::Nonce,
        IdTokenError::Expired { exp: 1_700_000_000, now: 1_700_000_600 },
        IdTokenError::OtherAccount { expected: expected(), found: found() },
        IdTokenError::Algorithm { found: "HS256".into() },
        IdTokenError::UnknownKey { kid: found() },
        IdTokenError::Signature,
        IdTokenError::KeysUnavailable("<why>".into()),
        IdTokenError::AccessTokenHash { expected: expected(), found: found() },
    ];
    for error in id_token_errors {
        out += &format!("| {} | {} |\n", cell(&error.to_string()), cell(error.fix().unwrap_or("—")));
    }
    let callback_errors = [
        CallbackError::Malformed("<what>".into()),
        CallbackError::NoPendingLogin,
        CallbackError::StateMismatch,
        CallbackError::OtherFlow { expected: "an authorization code", found: "tokens (the implicit flow)" },
        CallbackError::Expired { age: 3700 },
        CallbackError::UnknownAccount { found: "no account".into() },
    ];
    for error in callback_errors {
        out += &format!("| {} | — |\n", cell(&error.to_string()));
    }
    out += "\n## Why a signed-in user has no channels, or where they come from (`notice` in `/api/me`)\n\n\
            | notice | message | fix |\n|---|---|---|\n";
    let map = ApiConfig::demo().channels;
    let marketing = vec!["Marketing".to_owned()];
    let provisioned = |name: &str| vec![ProvisionedGroup { display_name: name.into(), external_id: None }];
    for assignment in [
        map.assign_parts(channels_api::config::DEMO_TENANT_ID, None, &[], true),
        map.assign_parts(channels_api::config::DEMO_TENANT_ID, None, &[], false),
        map.assign_parts(channels_api::config::DEMO_TENANT_ID, Some(&marketing), &[], false),
        map.assign_provisioned(channels_api::config::DEMO_TENANT_ID, &provisioned("Site-007"), &[]),
        map.assign_provisioned(channels_api::config::DEMO_TENANT_ID, &provisioned("Marketing"), &[]),
    ] {
        let notice = assignment.notice.expect("each case has a notice");
        out += &format!(
            "| `{}` | {} | {} |\n",
            notice.code,
            cell(&notice.message),
            cell(notice.fix.as_deref().unwrap_or("—"))
        );
    }
    out
}

#[test]
fn troubleshooting_table_matches_its_sources() {
    let path = docs().join("troubleshooting.md");
    let generated = troubleshooting();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/troubleshooting.md is stale: run UPDATE_DOCS=1 cargo test -p channels-api --test docs"
    );
}

#[test]
fn configuration_reference_names_every_key_of_the_demo_file() {
    let reference = std::fs::read_to_string(docs().join("configuration.md")).unwrap();
    let demo = include_str!("../config/demo.toml");
    let mut section = String::new();
    for line in demo.lines().map(|l| l.trim_start_matches('#').trim()) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            section = name.trim_matches(['[', ']']).to_owned();
        } else if let Some((key, rest)) = line.split_once(" = ") {
            if key.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !key.is_empty() {
                let full = if section == "channels" { format!("channels[].{key}") } else { format!("{section}.{key}") };
                assert!(reference.contains(&format!("`{full}`")), "docs/configuration.md does not describe `{full}`");
            }
            for var in
                rest.split(|c: char| !(c.is_ascii_uppercase() || c == '_')).filter(|w| w.len() > 3 && w.contains('_'))
            {
                assert!(reference.contains(var), "docs/configuration.md does not name {var}");
            }
        }
    }
}

/// Every environment variable of the configuration is documented beside the key it sets, from
/// the one table the overlay uses.
#[test]
fn configuration_reference_names_each_variable_beside_its_key() {
    let reference = std::fs::read_to_string(docs().join("configuration.md")).unwrap();
    for variable in &channels_api::config::env::VARIABLES {
        let row = format!("| `{}` | `{}`", variable.key, variable.name);
        assert!(reference.contains(&row), "docs/configuration.md has no row {row}");
    }
}

#[test]
fn every_sh_block_in_the_docs_runs() {
    let bin = Path::new(env!("CARGO_BIN_EXE_channels-api")).parent().unwrap().to_owned();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut ran = 0;
    for entry in std::fs::read_dir(docs()).unwrap() {
        let file = entry.unwrap().path();
        if file.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // A document is a sequence of steps: its blocks share one working directory, in order.
        let dir = tempfile::tempdir().unwrap();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if line.trim() != "```sh" {
                continue;
            }
            let indent = line.len() - line.trim_start().len();
            let block: Vec<&str> =
                lines.by_ref().take_while(|l| l.trim() != "```").map(|l| l.get(indent..).unwrap_or("")).collect();
            let output = Command::new("bash")
                .args(["-euo", "pipefail", "-c", &block.join("\n")])
                .current_dir(dir.path())
                .env("PATH", &path)
                .env_remove("CHANNELS_CONFIG")
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "{}: this block failed:\n{}\n{}",
                file.display(),
                block.join("\n"),
                String::from_utf8_lossy(&output.stderr)
            );
            ran += 1;
        }
    }
    assert!(ran >= 3, "expected the docs' sh blocks to run (found {ran})");
}

/// Checks that every test `doc` cites exists: `file.rs::function` (a `fn function(` in that
/// file) and `e2e/file.spec.ts › title` (a `test('title'` in that spec). Returns how many.
fn cited_tests_exist(doc: &str) -> usize {
    let text = std::fs::read_to_string(docs().join(doc)).unwrap();
    let root = docs().join("..");
    let mut cited = 0;
    for reference in text.split('`') {
        let (file, needle) = if let Some((file, function)) = reference.split_once(".rs::") {
            (format!("{file}.rs"), format!("fn {function}("))
        } else if let Some((file, title)) = reference.split_once(" › ") {
            (file.to_owned(), format!("test('{title}'"))
        } else {
            continue;
        };
        if !file.contains('/') {
            continue; // the legend's `file::function`, not a citation
        }
        let source =
            std::fs::read_to_string(root.join(&file)).unwrap_or_else(|e| panic!("docs/{doc} cites {file}: {e}"));
        assert!(source.contains(&needle), "docs/{doc} cites {reference}, which does not exist");
        cited += 1;
    }
    cited
}

#[test]
fn every_test_the_emulator_behaviour_table_cites_exists() {
    let cited = cited_tests_exist("emulator.md");
    assert!(cited >= 25, "expected the behaviour table to cite its tests (found {cited})");
}

#[test]
fn every_test_the_security_report_cites_exists() {
    let cited = cited_tests_exist("security.md");
    assert!(cited >= 60, "expected the security report to cite its tests (found {cited})");
}
