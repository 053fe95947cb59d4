//! `mock-attio`: run the mock Attio as a standalone server (the local demo uses this).
//!
//! ```text
//! mock-attio [--host 127.0.0.1] [--port 8790] [--redirect-uri URI]... [--token-style long-lived|expiring]
//!            [--require-pkce] [--auto-approve MEMBER_ID]
//! ```

// A command-line program: printing is its interface.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use mock_attio::{seed, Settings, TokenStyle};

const USAGE: &str = "usage: mock-attio [--host H] [--port P] [--redirect-uri URI]... \
[--token-style long-lived|expiring] [--require-pkce] [--auto-approve MEMBER_ID]";

struct Args {
    host: String,
    port: u16,
    redirect_uris: Vec<String>,
    settings: Settings,
}

fn parse_args() -> Result<Args, String> {
    let mut args =
        Args { host: "127.0.0.1".into(), port: 8790, redirect_uris: Vec::new(), settings: Settings::default() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--host" => args.host = value()?,
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--redirect-uri" => args.redirect_uris.push(value()?),
            "--token-style" => {
                args.settings.token_style = match value()?.as_str() {
                    "long-lived" => TokenStyle::LongLived,
                    "expiring" => TokenStyle::Expiring,
                    other => return Err(format!("unknown token style {other}")),
                }
            }
            "--require-pkce" => args.settings.require_pkce = true,
            "--auto-approve" => {
                let id = value()?;
                args.settings.auto_approve_member =
                    Some(uuid::Uuid::parse_str(&id).map_err(|e| format!("--auto-approve: {e}"))?);
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(args)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("mock-attio: cannot listen on {}:{}: {e}", args.host, args.port);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let mut world = seed::world(args.redirect_uris.clone(), args.settings);
    world.base_url = format!("http://{addr}");
    let shared = Arc::new(Mutex::new(world));
    println!("mock-attio listening on http://{addr}");
    println!("  demo app client_id={} redirect_uris={:?}", seed::DEFAULT_CLIENT_ID, args.redirect_uris);
    let shutdown = async {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    match axum::serve(listener, mock_attio::router(shared)).with_graceful_shutdown(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-attio: {e}");
            ExitCode::FAILURE
        }
    }
}
