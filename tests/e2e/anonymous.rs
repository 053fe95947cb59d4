//! Issue 27's amplification, replayed against the built worker in workerd from several
//! addresses: token requests each naming a new metadata document, registrations, consent pages
//! and forged tokens. The worker fetches only within `LIMIT_LOOKUPS` per address (the document
//! server counts every request it gets), and nothing is stored: no KV value (each is a file of
//! its own) and no Durable Object (each is a database file) appears in the local state.

use super::harness::*;

/// Every file of the worker's KV and Durable Object state (the simulator's rate limiters and
/// traces keep their own): a KV value is a file of its own, a Durable Object a database file.
/// Existing databases are not compared byte for byte: SQLite may checkpoint earlier writes into
/// them at any time.
fn stored(stack: &Stack) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = read_tree(&stack.worker.state_dir())
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| {
            let p = p.to_string_lossy();
            (p.contains("/v3/kv/") || p.contains("/v3/do/")) && !p.ends_with("-wal") && !p.ends_with("-shm")
        })
        .collect();
    assert!(!files.is_empty(), "no KV or Durable Object state found");
    files.sort();
    files
}

#[test]
fn anonymous_traffic_from_several_addresses_stores_nothing() {
    // Metadata documents may live on loopback here (test mode), so the document server sees
    // every fetch the worker makes.
    let stack = Stack::start(&[("INSECURE_TEST_MODE", "1"), ("TEST_CIMD_ALLOW_LOOPBACK", "1")]);
    let documents = Site::start(|_, _| None);
    let c = &stack.worker.client;
    let client_id = stack.register_client("Anonymous test app", "http://127.0.0.1:7777/cb");
    let authorize = format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A7777%2Fcb\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s"
    );
    // The first page reads the policy once into the isolate's memory; then the state is taken.
    assert_eq!(c.request("GET", &authorize, &[], None).status, 200);
    // The platform counts in fixed minutes of the wall clock: start well inside one.
    let into_minute = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() % 60_000;
    if into_minute > 30_000 {
        std::thread::sleep(std::time::Duration::from_millis((60_000 - into_minute) as u64 + 500));
    }
    let before = stored(&stack);
    let addresses = ["203.0.113.60", "203.0.113.61", "2001:db8:60::1"];
    let forged = format!("agwa2.{}.{}", "0".repeat(32), "A".repeat(43));
    let mut statuses = Vec::new();
    for (a, address) in addresses.iter().enumerate() {
        let from = |extra: &[(&'static str, String)]| {
            let mut h: Vec<(&str, String)> = vec![("cf-connecting-ip", address.to_string())];
            h.extend(extra.iter().cloned());
            h
        };
        let send = |method: &str, path: &str, headers: Vec<(&str, String)>, body: Option<&[u8]>| {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.request(method, path, &h, body).status
        };
        for n in 0..45 {
            let document = documents.url(&format!("/{a}/{n}.json"));
            let body = form_body(&[("grant_type", "authorization_code"), ("client_id", &document)]);
            let form = from(&[("content-type", "application/x-www-form-urlencoded".into())]);
            statuses.push(send("POST", "/token", form, Some(&body)));
        }
        for _ in 0..20 {
            let body = br#"{"redirect_uris":["http://127.0.0.1:7777/cb"],"token_endpoint_auth_method":"none"}"#;
            assert_eq!(
                send("POST", "/register", from(&[("content-type", "application/json".into())]), Some(body)),
                201
            );
        }
        for _ in 0..20 {
            assert_eq!(send("GET", &authorize, from(&[]), None), 200);
        }
        let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
        let mcp = from(&[
            ("authorization", format!("Bearer {forged}")),
            ("content-type", "application/json".into()),
            ("accept", "application/json, text/event-stream".into()),
        ]);
        for _ in 0..20 {
            assert_eq!(send("POST", "/mcp", mcp.clone(), Some(call)), 401);
        }
    }
    // Each address fetched 30 documents (its LIMIT_LOOKUPS minute), then was refused unfetched.
    assert_eq!(documents.fetches(), 3 * 30, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 3 * 15, "{statuses:?}");
    let after = stored(&stack);
    let new: Vec<_> = after.iter().filter(|f| !before.contains(f)).collect();
    assert!(new.is_empty(), "stored by anonymous traffic: {new:?}");
    assert_eq!(before, after);
}
