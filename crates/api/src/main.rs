//! `channels-api`: serves the API (the default), or runs an admin tool. Configured by a file
//! (`CHANNELS_CONFIG`) or variables; `--demo` (or `CHANNELS_DEMO=1`) serves the demo deployment
//! against a local emulator on 127.0.0.1:9400; see `config/demo.toml` for every key.

use std::future::IntoFuture as _;
use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use channels_api::config::{ApiConfig, DEMO_VARIABLE};
use channels_api::{admin, listen, ops, router, system_clock, AppState};
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
        action: admin::ScimTokenAction,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let demo = cli.demo;
    let var = |key: &str| if demo && key == DEMO_VARIABLE { Some("1".to_owned()) } else { std::env::var(key).ok() };
    let config = match ApiConfig::load(var) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("channels-api: invalid configuration: {error}");
            return ExitCode::from(2);
        }
    };
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = config.server.workers {
        runtime.worker_threads(workers.get());
    }
    runtime.enable_all().build().expect("a Tokio runtime").block_on(run(cli.command, config))
}

async fn run(command: Option<Command>, config: ApiConfig) -> ExitCode {
    let outcome = match command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::CheckToken { jwks, at } => check_token(&config, jwks, at).await,
        Command::Manifest { hosts } => admin::manifest(&config, &hosts)
            .map(|manifest| {
                println!("{}", serde_json::to_string_pretty(&manifest).expect("JSON"));
                ExitCode::SUCCESS
            })
            .map_err(Into::into),
        Command::Preview { upn, tenant, groups, roles, token } => {
            preview(&config, upn, tenant, groups, roles, token).await
        }
        Command::ScimToken { action } => {
            admin::scim_token(&config, action, now()).await.map_err(Into::into).and_then(print)
        }
        Command::Members { tenant, json, action } => admin::members_command(&config, tenant, json, action, now())
            .await
            .map(|out| admin::Printed { out, ..Default::default() })
            .map_err(Into::into)
            .and_then(print),
    };
    outcome.unwrap_or_else(|error| {
        eprintln!("channels-api: {error}");
        ExitCode::FAILURE
    })
}

type Outcome = Result<ExitCode, Box<dyn std::error::Error>>;

async fn serve(config: ApiConfig) -> Outcome {
    ops::init_logs(config.operations.log_format);
    let listener = listen(config.server.listen).await?;
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
        listen = %config.server.listen,
        authority = %config.authority.as_str(),
        tenant = %config.tenant_id,
        spa = ?config.server.spa_dir,
        "channels-api serving"
    );
    if let Some(listen) = config.operations.metrics_listen {
        ops::serve_metrics(listen).await?;
        tracing::info!(%listen, "metrics at /metrics");
    }
    let state = AppState::connect(config, system_clock()).await?;
    admin::warn_of_provisioned_names(&state.config, &state.scim_tokens).await;
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

fn read_stdin() -> Result<String, Box<dyn std::error::Error>> {
    let mut token = String::new();
    std::io::stdin().read_to_string(&mut token)?;
    let token = token.trim().trim_start_matches("Bearer ").trim().to_owned();
    if token.is_empty() {
        return Err("expected an access token on standard input (found nothing)".into());
    }
    Ok(token)
}

async fn check_token(config: &ApiConfig, jwks: Option<PathBuf>, at: Option<u64>) -> Outcome {
    let token = read_stdin()?;
    let (report, valid) = admin::check_token_command(config, &token, jwks.as_deref(), at).await?;
    print!("{report}");
    Ok(if valid { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

async fn preview(
    config: &ApiConfig,
    upn: String,
    tenant: Option<String>,
    groups: Vec<String>,
    roles: Vec<String>,
    token: bool,
) -> Outcome {
    let of = match token {
        true => admin::PreviewOf::Token { token: read_stdin()?, upn },
        false => admin::PreviewOf::User { upn, tenant, groups, roles },
    };
    print(admin::preview_command(config, of).await?)
}

fn now() -> i64 {
    system_clock()() as i64
}

/// Prints what a tool answered: the answer on standard output, the rest on standard error.
fn print(printed: admin::Printed) -> Outcome {
    eprint!("{}", printed.note);
    print!("{}", printed.out);
    Ok(ExitCode::SUCCESS)
}
