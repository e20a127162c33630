//! `channels-api`: serves the API (the default), or runs an admin tool. Configured by a file
//! (`CHANNELS_CONFIG`) or variables; `--demo` (or `CHANNELS_DEMO=1`) serves the demo deployment
//! against a local emulator on 127.0.0.1:9400; see `config/demo.toml` for every key.

use std::future::IntoFuture as _;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use channels_api::auth::keys::KeyCache;
use channels_api::auth::Validator;
use channels_api::channels::ProvisionedGroup;
use channels_api::config::{ApiConfig, DEMO_VARIABLE};
use channels_api::members::MemberStore;
use channels_api::{admin, expectations, key_cache, ops, router, system_clock, AppState};
use clap::{Parser, Subcommand};

/// Entra ID access tokens in, channels out.
#[derive(Parser)]
#[command(name = "channels-api", version, about)]
struct Cli {
    /// Run the demo deployment against a local Entra emulator (as CHANNELS_DEMO=1 does): never
    /// in production.
    #[arg(long, global = true)]
    demo: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and the SPA (what runs with no subcommand).
    Serve,
    /// Read an access token on stdin; say whether this configuration accepts it, and if not,
    /// every reason and its fix.
    CheckToken {
        /// Check offline against this JWKS file instead of the tenant's published keys.
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// Check as of this Unix time (for captured tokens) instead of now.
        #[arg(long)]
        at: Option<u64>,
    },
    /// Print the Entra app registration manifest that matches this configuration.
    Manifest {
        /// An origin the SPA is served from, e.g. https://channels.example.com; once per host.
        #[arg(long = "host")]
        hosts: Vec<String>,
    },
    /// Show the channels a user would get, and which group or role grants each.
    Preview {
        /// The user principal name to show.
        #[arg(long, default_value = "the user")]
        upn: String,
        /// The user's tenant (directory) id; required when several tenants are allowed.
        #[arg(long)]
        tenant: Option<String>,
        /// A value of the groups claim (sAMAccountName, DOMAIN\name or object id); repeat.
        #[arg(long = "group")]
        groups: Vec<String>,
        /// An app role; repeat.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Read an access token on stdin and preview its tenant, groups and roles instead.
        #[arg(long, conflicts_with_all = ["groups", "roles", "tenant"])]
        token: bool,
    },
    /// Pre-create, list, disable, enable or remove members.
    Members {
        /// The members' tenant (directory) id; required when several tenants are allowed (not
        /// for `list`, which then lists every allowed tenant's).
        #[arg(long, global = true)]
        tenant: Option<String>,
        /// Print JSON, for scripts.
        #[arg(long, global = true)]
        json: bool,
        #[command(subcommand)]
        action: admin::MembersAction,
    },
    /// Make, list or revoke the bearer tokens of Entra's SCIM provisioning service.
    ScimToken {
        #[command(subcommand)]
        action: ScimTokenAction,
    },
}

#[derive(Subcommand)]
enum ScimTokenAction {
    /// Make a token for one tenant; it is printed once and only its hash is stored.
    Create {
        /// The tenant (directory) id the token provisions; required when several are allowed.
        #[arg(long)]
        tenant: Option<String>,
        /// A name to tell tokens apart, e.g. "entra-2026-12".
        #[arg(long, default_value = "entra provisioning")]
        label: String,
    },
    /// List the tokens (never their secrets).
    List,
    /// Revoke a token by its id (the middle part of the token, shown by `list`).
    Revoke {
        /// The token's id.
        id: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // CHANNELS_API_WORKERS sets the number of worker threads (default: one per core).
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = std::env::var("CHANNELS_API_WORKERS").ok().and_then(|w| w.parse().ok()) {
        runtime.worker_threads(workers);
    }
    runtime.enable_all().build().expect("a Tokio runtime").block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let demo = cli.demo;
    let var = |key: &str| if demo && key == DEMO_VARIABLE { Some("1".to_owned()) } else { std::env::var(key).ok() };
    let config = match ApiConfig::load(var) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("channels-api: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::CheckToken { jwks, at } => check_token(config, jwks, at).await,
        Command::Manifest { hosts } => admin::manifest(&config, &hosts)
            .map(|manifest| {
                println!("{}", serde_json::to_string_pretty(&manifest).expect("JSON"));
                ExitCode::SUCCESS
            })
            .map_err(Into::into),
        Command::Preview { upn, tenant, groups, roles, token } => {
            preview(&config, upn, tenant, groups, roles, token).await
        }
        Command::ScimToken { action } => scim_token(&config, action).await,
        Command::Members { tenant, json, action } => members(&config, tenant, json, action).await,
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("channels-api: {error}");
        ExitCode::FAILURE
    })
}

type Outcome = Result<ExitCode, Box<dyn std::error::Error>>;

async fn serve(config: ApiConfig) -> Outcome {
    ops::init_logs(config.operations.log_format);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    if config.demo {
        tracing::warn!(
            "demo: trusting the Entra emulator at {} (CHANNELS_DEMO=1 or --demo); never run a deployment this way",
            config.authority.as_str()
        );
    }
    for organisation in config.implicit_flow_organisations() {
        tracing::warn!(
            organisation,
            "the implicit flow is on for this organisation: tokens come through the address bar without PKCE, \
             and RFC 9700 advises against it; turn it off once the tenant's MFA exceptions allow the code flow \
             (docs/entra-setup.md)"
        );
    }
    for (tenant, rule) in config.step_up.describe(&config.allowed_tenants) {
        tracing::info!(tenant, "step-up for saving preferences: {rule}");
    }
    tracing::info!(
        listen = %config.listen,
        authority = %config.authority.as_str(),
        tenant = %config.tenant_id,
        spa = ?config.spa_dir,
        "channels-api serving"
    );
    if let Some(listen) = config.operations.metrics_listen {
        ops::serve_metrics(listen).await?;
        tracing::info!(%listen, "metrics at /metrics");
    }
    let state = AppState::connect(config, system_clock()).await?;
    warn_of_provisioned_names(&state).await;
    let _hourly_key_refresh = state.keys.clone().refresh_periodically();
    let (stop_accepting, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, router(state.clone())?).with_graceful_shutdown(async {
        stopped.await.ok();
    });
    let mut server = tokio::spawn(server.into_future());
    let stop = tokio::select! {
        // The server stops by itself only when it fails.
        outcome = &mut server => return outcome?.map(|()| ExitCode::FAILURE).map_err(Into::into),
        stop = ops::stop_signal() => stop,
    };
    let operations = &state.config.operations;
    if ops::shut_down(stop, operations, &state.draining, server, stop_accepting).await {
        // Every request has given its connection back: this returns at once.
        state.members.close().await;
    }
    Ok(ExitCode::SUCCESS)
}

/// Once SCIM provisioning is on for a tenant (a live SCIM token), its channels granted by a
/// group name, or by a domain-qualified name, each get a warning: see
/// [`admin::provisioning_warnings`].
async fn warn_of_provisioned_names(state: &AppState) {
    let tenants = match state.members.provisioned_tenants().await {
        Ok(tenants) => tenants,
        Err(error) => return tracing::warn!(%error, "SCIM tokens not read at start"),
    };
    for tenant in &tenants {
        for warning in admin::provisioning_warnings(&state.config, tenant) {
            tracing::warn!(tenant, "{warning}");
        }
    }
}

fn read_stdin() -> Result<String, Box<dyn std::error::Error>> {
    let mut token = String::new();
    std::io::stdin().read_to_string(&mut token)?;
    let token = token.trim().trim_start_matches("Bearer ").trim().to_owned();
    if token.is_empty() {
        return Err("expected an access token on standard input (found nothing)".into());
    }
    Ok(token)
}

async fn check_token(config: ApiConfig, jwks: Option<PathBuf>, at: Option<u64>) -> Outcome {
    let token = read_stdin()?;
    let keys = match jwks {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let set =
                serde_json::from_str(&text).map_err(|e| format!("{}: expected a JWK set ({e})", path.display()))?;
            KeyCache::fixed(&set)
        }
        None => key_cache(&config),
    };
    let clock = match at {
        Some(at) => Arc::new(move || at),
        None => system_clock(),
    };
    let validator = Validator::new(expectations(&config), Arc::new(keys), clock);
    let (report, valid) = admin::check_token(&validator, &token).await;
    print!("{report}");
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The tenant named by `--tenant`, or the only one allowed.
fn tenant_of(config: &ApiConfig, tenant: Option<String>) -> Result<String, Box<dyn std::error::Error>> {
    match (tenant, config.allowed_tenants.as_slice()) {
        (Some(tenant), allowed) if allowed.iter().any(|a| a.eq_ignore_ascii_case(&tenant)) => {
            Ok(tenant.to_ascii_lowercase())
        }
        (Some(tenant), allowed) => {
            Err(format!("--tenant: expected an allowed tenant, one of {} (found {tenant})", allowed.join(", ")).into())
        }
        (None, [only]) => Ok(only.clone()),
        (None, several) => {
            Err(format!("--tenant: expected the user's tenant, one of {} (found none)", several.join(", ")).into())
        }
    }
}

async fn preview(
    config: &ApiConfig,
    upn: String,
    tenant: Option<String>,
    groups: Vec<String>,
    roles: Vec<String>,
    token: bool,
) -> Outcome {
    if !token {
        let tenant = tenant_of(config, tenant)?;
        let groups = Some(&groups).filter(|g| !g.is_empty()).map(Vec::as_slice);
        // Without groups given, the user's provisioned memberships, if SCIM pushed any; a
        // database out of reach only leaves them out, with a note.
        let (provisioned, scim) = provisioning_of(config, &tenant, groups.is_none().then_some(upn.as_str())).await;
        let user = admin::Previewed {
            tenant: &tenant,
            upn: &upn,
            groups,
            roles: &roles,
            overage: false,
            provisioned: &provisioned,
            scim,
        };
        print!("{}", admin::preview(config, &user));
        return Ok(ExitCode::SUCCESS);
    }
    let token = read_stdin()?;
    let payload = token.split('.').nth(1).ok_or("expected a JWT (three dot-separated parts)")?;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)?;
    let claims: channels_protocol::claims::AccessTokenClaims = serde_json::from_slice(&bytes)?;
    println!("(claims read from the token without verifying it; check-token verifies)");
    let upn = claims.upn.clone().or(claims.preferred_username.clone()).unwrap_or(upn);
    let roles = claims.roles.clone().unwrap_or_default();
    let (_, scim) = provisioning_of(config, &claims.tid, None).await;
    let user = admin::Previewed {
        tenant: &claims.tid,
        upn: &upn,
        groups: claims.groups.as_deref(),
        roles: &roles,
        overage: claims.has_group_overage(),
        provisioned: &[],
        scim,
    };
    print!("{}", admin::preview(config, &user));
    Ok(ExitCode::SUCCESS)
}

/// Whether SCIM provisioning is on for `tenant` (it has a live SCIM token), and the provisioned
/// memberships of the member whose UPN is `upn`, when asked; a database out of reach leaves both
/// out, with a note.
async fn provisioning_of(config: &ApiConfig, tenant: &str, upn: Option<&str>) -> (Vec<ProvisionedGroup>, bool) {
    let read = async {
        let store = MemberStore::connect(config.database_url.secret()).await?;
        let scim = store.provisioned_tenants().await?.contains(tenant);
        let member = match upn {
            Some(upn) => store.by_upn(tenant, upn).await?,
            None => None,
        };
        let groups = match member {
            Some(member) => store.provisioned_groups(tenant, &member.object_id).await?,
            None => Vec::new(),
        };
        store.close().await;
        Ok::<_, channels_api::members::StoreError>((groups, scim))
    };
    read.await.unwrap_or_else(|error| {
        eprintln!("note: provisioned memberships not read ({error})");
        (Vec::new(), false)
    })
}

async fn members(config: &ApiConfig, tenant: Option<String>, json: bool, action: admin::MembersAction) -> Outcome {
    let tenant = match (&action, tenant) {
        (admin::MembersAction::List, None) => None,
        (_, tenant) => Some(tenant_of(config, tenant)?),
    };
    let store = MemberStore::connect(config.database_url.secret()).await?;
    let outcome = admin::members(config, &store, tenant.as_deref(), action, json, system_clock()() as i64).await;
    store.close().await;
    print!("{}", outcome?);
    Ok(ExitCode::SUCCESS)
}

async fn scim_token(config: &ApiConfig, action: ScimTokenAction) -> Outcome {
    let store = MemberStore::connect(config.database_url.secret()).await?;
    let now = system_clock()() as i64;
    match action {
        ScimTokenAction::Create { tenant, label } => {
            let tenant = tenant_of(config, tenant)?;
            let (record, token) = store.create_scim_token(&tenant, &label, now).await?;
            eprintln!(
                "SCIM token {} for tenant {tenant} ({label}); it is shown once, only its hash is kept.",
                record.id
            );
            eprintln!("Paste it into Entra: Enterprise applications → Channels → Provisioning → Admin credentials → Secret token.");
            println!("{}", token.secret());
        }
        ScimTokenAction::List => {
            for token in store.scim_tokens().await? {
                let state = token
                    .revoked_at
                    .map_or("live".to_owned(), |at| format!("revoked {}", channels_api::scim::timestamp(at)));
                println!(
                    "{}  tenant {}  made {}  {state}  {}",
                    token.id,
                    token.tenant_id,
                    channels_api::scim::timestamp(token.created_at),
                    token.label
                );
            }
        }
        ScimTokenAction::Revoke { id } => {
            if !store.revoke_scim_token(&id, now).await? {
                return Err(format!("expected the id of a live token, as `scim-token list` shows (found {id})").into());
            }
            println!("revoked {id}: Entra's requests with it are refused from now on");
        }
    }
    Ok(ExitCode::SUCCESS)
}
