//! A new release keeps everyone connected: an earlier release's bundle (pinned below, built
//! once and cached under `target/upgrade-base/`) creates a person's Attio connection, a
//! registered MCP client and its grant against the mock; then this release's bundle serves the
//! same persisted state (KV and Durable Objects) at the same origin. The refresh token, the
//! access token, a tool call, the person's `/account` page and the audit log written before the
//! upgrade (read by the person and by an administrator) must all still work.
//!
//! Move `BASE` forward as releases are cut; every change to stored records, bindings or
//! Durable Object classes (and their `[[migrations]]`) must keep this green.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::*;

/// The release whose state the current bundle must serve: the last landing before
/// `private_key_jwt` (stop 11), when client records had no `assertion_keys`.
const BASE: &str = "e90e85a3fed5cbe3c2dd91e532beef7214012876";

/// The base release's checkout and built bundle, made once per machine.
fn base_release() -> PathBuf {
    let dir = repo_root().join("target/upgrade-base").join(BASE);
    if dir.join("build/index.js").exists() && dir.join("build/index_bg.wasm").exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the base release's directory");
    // `git archive` rather than a worktree: a plain copy of that commit, nothing to clean up in .git.
    let archive = Command::new("git")
        .args(["archive", "--format=tar", BASE])
        .current_dir(repo_root())
        .output()
        .expect("run git archive");
    assert!(
        archive.status.success(),
        "the base release {BASE} is not in this clone (a shallow clone? fetch its history): {}",
        String::from_utf8_lossy(&archive.stderr)
    );
    let tar = dir.join("base.tar");
    std::fs::write(&tar, &archive.stdout).expect("write the archive");
    let unpacked = Command::new("tar").arg("-xf").arg(&tar).current_dir(&dir).status().expect("run tar");
    assert!(unpacked.success(), "unpack the base release");
    // Its build uses the same tools (wasm-opt and esbuild from node_modules, worker-build,
    // wasm-bindgen), in a target directory of its own so neither build reuses the other's output.
    std::os::unix::fs::symlink(repo_root().join("node_modules"), dir.join("node_modules")).expect("link node_modules");
    let built = Command::new("sh")
        .arg("scripts/build-worker")
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", repo_root().join("target/upgrade-base/target"))
        .env_remove("ATTIO_GATEWAY_PREBUILT")
        .status()
        .expect("build the base release");
    assert!(built.success() && dir.join("build/index.js").exists(), "the base release did not build");
    dir
}

fn form(c: &TestClient, path: &str, pairs: &[(&str, &str)]) -> Reply {
    c.request("POST", path, &[("content-type", "application/x-www-form-urlencoded")], Some(&form_body(pairs)))
}

fn whoami(c: &TestClient, token: &str) -> Value {
    let body =
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}});
    let reply = mcp_post(c, token, &[("mcp-protocol-version", "2025-11-25")], body.to_string().as_bytes());
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["result"].clone()
}

#[test]
fn state_made_by_the_previous_release_is_served_by_this_one() {
    let base = base_release();
    ensure_built();
    let mock = Stack::mock();
    let vars = configured_vars(&mock.base_url());
    let port = free_port();

    // The previous release: a person connects, an MCP client registers and gets tokens.
    let old = Worker::launch(&vars, TempDir::new("upgrade"), Some(&base.join("wrangler.toml")), port);
    mock.with(|w| w.apps[0].redirect_uris = vec![old.callback_url()]);
    let stack = Stack { worker: old, mock };
    let mut browser = stack.browser();
    let connected = stack.connect(&mut browser);
    assert_eq!(connected.status, 200, "{}", connected.body);
    let redirect = "http://127.0.0.1:7777/callback";
    let registration = json!({"client_name": "Upgrade client", "redirect_uris": [redirect],
        "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none"});
    let registered = stack.worker.client.send_json("POST", "/register", None, &registration);
    assert_eq!(registered.status, 201, "{}", registered.body);
    let client_id = registered.json()["client_id"].as_str().unwrap().to_string();
    let to_client = stack.approve_in_browser(&stack.authorize_url(&client_id, redirect, "/mcp", None), "write");
    let code = url::Url::parse(&to_client).unwrap().query_pairs().find(|(k, _)| k == "code").unwrap().1.into_owned();
    let c = &stack.worker.client;
    let tokens = form(
        c,
        "/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("code_verifier", PKCE_VERIFIER),
            ("redirect_uri", redirect),
        ],
    );
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let old_access = tokens.json()["access_token"].as_str().unwrap().to_string();
    let refresh = tokens.json()["refresh_token"].as_str().unwrap().to_string();
    assert!(whoami(c, &old_access).to_string().contains(ACME_WORKSPACE_ID));

    // This release, on the same state and origin.
    let Stack { worker, mock } = stack;
    let state = worker.stop();
    let new = Worker::launch(&vars, state, None, port);
    let stack = Stack { worker: new, mock };
    let c = &stack.worker.client;
    assert_eq!(c.get("/health", None).status, 200);
    // The token issued before the upgrade still works.
    assert!(whoami(c, &old_access).to_string().contains(ACME_WORKSPACE_ID), "old access token");
    // Its refresh token rotates.
    let refreshed =
        form(c, "/token", &[("grant_type", "refresh_token"), ("client_id", &client_id), ("refresh_token", &refresh)]);
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let new_access = refreshed.json()["access_token"].as_str().unwrap().to_string();
    let result = whoami(c, &new_access);
    assert_ne!(result["isError"], true, "{result}");
    assert!(result.to_string().contains(ACME_WORKSPACE_ID), "{result}");
    // The person's page still knows them and the app they approved.
    let account = browser.get("/account");
    assert_eq!(account.status, 200, "{}", account.body);
    assert!(account.body.contains("Upgrade client"), "{}", account.body);
    // The audit log: the call made before the upgrade (in KV, as that release kept it) beside
    // the two made since (in the person's object), for the person and for an administrator.
    let whoamis = |body: &str| body.matches("\"action\":\"whoami\"").count();
    let log = eventually(|| browser.get("/connect/audit"), |l| whoamis(&l.body) >= 3);
    assert_eq!(whoamis(&log.body), 3, "{}", log.body);
    let admin = browser.get("/admin");
    assert_eq!(admin.status, 200, "{}", admin.body);
    assert!(admin.body.matches("title=\"whoami\">Who am I<").count() >= 3, "{}", admin.body);
    // The registered client still authorizes under the new release.
    let again = stack.approve_in_browser(&stack.authorize_url(&client_id, redirect, "/mcp", None), "read");
    assert!(again.starts_with(redirect), "{again}");
}
