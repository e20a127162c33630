//! `channels-bench idp ADDR COUNT TOKENS_FILE`: serves the demo tenant (the Entra emulator) on
//! ADDR and writes COUNT access tokens, one per distinct user, to TOKENS_FILE, then serves
//! until stopped. Load runs replay those tokens against `channels-api` and its Node.js peer,
//! which both fetch this emulator's keys.
//!
//! `channels-bench scim …`: SCIM provisioning at a tenant's size ([`scim`]).

mod scim;

use std::io::Write as _;

use entra_emulator::directory::{demo, User};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("idp") => idp(&args[2..]).await,
        Some("scim") => scim::run(&args[2..]).await,
        other => Err(format!("expected the command `idp` or `scim` (found {other:?})").into()),
    }
}

async fn idp(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let [addr, count, out] = args else {
        return Err("usage: channels-bench idp ADDR COUNT TOKENS_FILE".into());
    };
    let count: usize = count.parse().map_err(|_| format!("expected a token count (found {count:?})"))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let running = entra_emulator::spawn(listener, demo::tenant(), entra_emulator::system_clock()).await?;
    let emulator = running.emulator.clone();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs();

    // Every user is in Alice's groups, so every answer carries the same channels.
    let tenant = emulator.tenant();
    let member_of = tenant.user_by_upn("alice@contoso.example").expect("demo user").member_of.clone();
    let app = &tenant.apps[0];
    let scopes = [demo::SCOPE.to_owned()];
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let tokens: Vec<String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (emulator, member_of, scopes) = (&emulator, &member_of, &scopes);
                scope.spawn(move || {
                    (t..count)
                        .step_by(threads)
                        .map(|n| {
                            let user = User::member(
                                format!("{n:08x}-0000-4000-8000-00000000b0b0"),
                                format!("user{n}@contoso.example"),
                                &format!("User {n}"),
                                member_of,
                            );
                            (n, emulator.key().sign(&emulator.access_token_claims(app, &user, scopes, now)))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, String)> =
            workers.into_iter().flat_map(|w| w.join().expect("minting thread")).collect();
        all.sort_by_key(|(n, _)| *n);
        all.into_iter().map(|(_, token)| token).collect()
    });
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    for token in &tokens {
        writeln!(file, "{token}")?;
    }
    file.flush()?;
    println!("ready: {} tokens in {out}; issuer {}", tokens.len(), emulator.issuer());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
