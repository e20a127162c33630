//! `channels`: sign in to your organisation's Channels from a terminal, and see your channels.
//!
//! ```sh
//! channels login --api https://channels.example.com   # the browser opens; sign in there
//! channels me                                          # your channels
//! curl -H "Authorization: Bearer $(channels token)" https://channels.example.com/api/me
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use channels_cli::commands::{self, Context, LoginOptions};
use channels_cli::error::CliError;
use clap::{Parser, Subcommand};

/// Your organisation's Channels, from a terminal.
#[derive(Parser)]
#[command(name = "channels", version, about)]
struct Cli {
    /// The saved sign-in to use: one per organisation or account.
    #[arg(long, global = true, default_value = "default")]
    profile: String,
    /// Where profiles are kept (default: your configuration folder's `channels`).
    #[arg(long, global = true, env = "CHANNELS_CONFIG_DIR")]
    config_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sign in: in your browser, or with a code to enter on another device.
    Login {
        /// The Channels address your organisation gave you (for the first sign-in).
        #[arg(long)]
        api: Option<String>,
        /// The organisation to sign in to, when that address serves several.
        #[arg(long)]
        organisation: Option<String>,
        /// Sign in on another device with a code (for machines without a browser).
        #[arg(long)]
        device_code: bool,
        /// How long to wait for the browser sign-in, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// Show who you are and your channels.
    Me {
        /// Print the API's JSON, for scripts.
        #[arg(long)]
        json: bool,
    },
    /// Print an access token for the Channels API (renewed silently).
    Token,
    /// Forget this profile's sign-in.
    Logout,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a Tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("channels: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<String, CliError> {
    let dir = match cli.config_dir {
        Some(dir) => dir,
        None => dirs::config_dir()
            .map(|dir| dir.join("channels"))
            .ok_or_else(|| CliError("expected a configuration folder (found none): set CHANNELS_CONFIG_DIR".into()))?,
    };
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client");
    let context = Context { http, dir, profile: cli.profile };
    match cli.command {
        Command::Login { api, organisation, device_code, timeout } => {
            let options = LoginOptions { api, organisation, device_code, timeout: Duration::from_secs(timeout) };
            let told = commands::login(&context, options).await?;
            eprint!("{told}");
            Ok(String::new())
        }
        Command::Me { json } => commands::me(&context, json).await,
        Command::Token => commands::token(&context).await,
        Command::Logout => {
            let told = commands::logout(&context).await?;
            eprint!("{told}");
            Ok(String::new())
        }
    }
}
