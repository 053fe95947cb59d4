//! The pages a person sees, in headless Chromium (Debian's `chromium` driven by playwright-core,
//! `tests/browser/walk.mjs`): /setup, our consent page, the mock Attio's sign-in, /account,
//! /admin with its policy form, /account with a revocation that kills the token, CSRF and
//! framing refused. Screenshots are kept in `test-artifacts/screenshots/`.

use std::time::Duration;

use serde_json::json;

use crate::harness::*;

pub fn chromium() -> Option<std::path::PathBuf> {
    let path: std::path::PathBuf =
        std::env::var_os("CHROMIUM_PATH").map_or_else(|| "/usr/bin/chromium".into(), Into::into);
    path.exists().then_some(path)
}

#[test]
fn a_person_walks_setup_consent_attio_sign_in_and_account_in_chromium() {
    let browser = chromium().expect("Chromium is missing: scripts/bootstrap installs Debian's chromium package");
    // One workspace served: its admin may also set the deployer-wide policy on /admin.
    let stack = Stack::start(&[("ATTIO_ALLOWED_WORKSPACES", ACME_WORKSPACE_ID)]);
    let c = &stack.worker.client;
    // The app's loopback callback: it only has to answer (the walk reads the code from the URL).
    let app = DocumentServer::start(|_| "<p>Back in the app.</p>".to_string());
    let redirect_uri = format!("{}/callback", app.url.trim_end_matches('/'));
    let redirect = redirect_uri.as_str();
    let client_id = stack.register_client("Browser test app", redirect);
    let authorize_url = stack.authorize_url(&client_id, redirect, "/mcp", Some("attio:read attio:write"));
    let screenshots = artifacts_dir().join("screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    // Only this walk's own screenshots from an earlier run: the Access and owner tests write
    // theirs (`gated-*`) into the same folder, perhaps at this very moment.
    for entry in std::fs::read_dir(&screenshots).unwrap().flatten() {
        if !entry.file_name().to_string_lossy().starts_with("gated-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    let input = json!({
        "base": c.base, "clientId": client_id, "redirectUri": redirect, "verifier": PKCE_VERIFIER,
        "authorizeUrl": authorize_url, "screenshots": screenshots,
    })
    .to_string();
    let (r, ok) = browser_script("walk.mjs", &input, Some(browser), Duration::from_secs(180));
    assert!(ok, "the walk failed: {r:#}");

    assert_eq!((r["setupStatus"].as_u64(), r["setupReady"].as_bool()), (Some(200), Some(true)), "{r:#}");
    assert_eq!(r["consentTitle"], "Allow access to Attio?");
    assert!(r["attioUrl"].as_str().unwrap().starts_with(&stack.mock.base_url()), "{r:#}");
    assert_eq!(r["pingBefore"], 200);
    assert_eq!((r["accountStatus"].as_u64(), r["accountListsApp"].as_bool()), (Some(200), Some(true)), "{r:#}");
    // The administrators' page, and its policy taking effect on the app's next call.
    assert_eq!((r["adminStatus"].as_u64(), r["adminListsApp"].as_bool()), (Some(200), Some(true)), "{r:#}");
    assert_eq!(r["policyFormShown"], true, "{r:#}");
    for width in ["desktop", "phone"] {
        assert_eq!(r["adminOverflow"][width], 0, "/admin runs off the page ({width}): {r:#}");
    }
    assert!(r["writeToolsBefore"].as_u64().unwrap() > 0, "{r:#}");
    assert_eq!(r["writeToolsUnderPolicy"], 0, "writes off: no write tool listed");
    assert_eq!(r["writeToolsAfter"], r["writeToolsBefore"], "writes on again");
    // Clickjacking: every page says so in two headers, and Chromium obeys.
    for page in ["setup", "consent", "account", "admin"] {
        assert_eq!(r["headers"][page]["xfo"], "DENY", "{page}");
        assert!(r["headers"][page]["csp"].as_str().unwrap().contains("frame-ancestors 'none'"), "{page}");
    }
    assert_eq!(r["framedRendered"], false, "the account page rendered inside a frame");
    // CSRF: both attempts refused, and the token still worked afterwards.
    assert_eq!(r["forgedStatus"], 403);
    let cross_site = r["crossSiteStatus"].as_u64().unwrap();
    assert!(cross_site == 401 || cross_site == 403, "cross-site revoke answered {cross_site}");
    assert_eq!(r["pingAfterAttacks"], 200);
    // The real button revokes, and the token is dead at once.
    assert!(r["afterRevokeUrl"].as_str().unwrap().ends_with("/account"));
    assert_eq!(r["appGone"], true);
    assert_eq!(r["pingAfterRevoke"], 401);
    for shot in [
        "setup",
        "consent",
        "consent-phone",
        "attio-sign-in",
        "account",
        "admin",
        "admin-policy",
        "admin-desktop",
        "admin-phone",
        "account-after-revoke",
        "error-page",
    ] {
        let file = screenshots.join(format!("{shot}.png"));
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(size > 5_000, "screenshot {} missing or empty", file.display());
    }
}
