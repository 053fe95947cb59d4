//! Every major MCP client, replayed as it really identifies itself today
//! (`tests/fixtures/clients/*.json`, each citing its sources): discovery, registration or a
//! metadata document served from loopback, our consent and the Attio sign-in, the code exchange
//! with the client's own authentication, a refresh, and a tool call in the protocol revision the
//! client speaks. Each test also asserts what sets its client apart. One worker and mock serve the
//! whole family while any of its tests runs.
//!
//! Also here: the `private_key_jwt` refusals (each assertion a real client could be impersonated
//! with), and outbound reads that never end or drip.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::harness::*;
use crate::jwt_signer::{self, TestKey, CLIENT_P256_PEM, CLIENT_RSA_PEM, OTHER_RSA_PEM};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The family's stack: started by the first test that needs it, stopped with the last.
fn stack() -> Arc<Stack> {
    static SLOT: Mutex<Weak<Stack>> = Mutex::new(Weak::new());
    let mut slot = SLOT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(stack) = slot.upgrade() {
        return stack;
    }
    let stack = Arc::new(Stack::start(&[("INSECURE_TEST_MODE", "1"), ("TEST_CIMD_ALLOW_LOOPBACK", "1")]));
    *slot = Arc::downgrade(&stack);
    stack
}

fn fixture(name: &str) -> Value {
    let path = repo_root().join(format!("tests/fixtures/clients/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture")).expect("fixture JSON")
}

/// `value` with every `{site}`, `{port}` and `{gateway}` in its strings filled in.
fn fill(value: &Value, vars: &[(&str, &str)]) -> Value {
    match value {
        Value::String(s) => {
            Value::String(vars.iter().fold(s.clone(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v)))
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, vars)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), fill(v, vars))).collect()),
        other => other.clone(),
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn query(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location).ok()?.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A client's site: its metadata document (if it has one) and its key set.
fn client_site(fx: &Value, keys: Value) -> Site {
    let doc = fx["document"].clone();
    let doc_path = fx["client_id"].as_str().and_then(|id| id.strip_prefix("{site}")).unwrap_or_default().to_string();
    Site::start(move |base, path| {
        if !doc.is_null() && path == doc_path {
            Some(Served::Json(fill(&doc, &[("site", base)]).to_string()))
        } else if path == "/oauth/jwks.json" {
            Some(Served::Json(keys.to_string()))
        } else {
            None
        }
    })
}

/// How the replayed client authenticates at the token endpoint.
struct ClientAuth<'a> {
    client_id: String,
    key: Option<(&'a TestKey, String)>,
    aud: String,
}

impl ClientAuth<'_> {
    /// The form fields authenticating one token request.
    fn fields(&self, jti: &str) -> Vec<(String, String)> {
        match &self.key {
            None => vec![("client_id".into(), self.client_id.clone())],
            Some((key, kid)) => {
                let jwt = key.sign(Some(kid), &jwt_signer::claims(&self.client_id, &self.aud, now_secs(), jti));
                vec![("client_assertion_type".into(), ASSERTION_TYPE.into()), ("client_assertion".into(), jwt)]
            }
        }
    }
}

fn token_request(c: &TestClient, pairs: &[(String, String)]) -> Reply {
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let body = form_body(&refs);
    c.request("POST", "/token", &[("content-type", "application/x-www-form-urlencoded")], Some(&body))
}

/// One MCP request in `protocol`'s shape (2025: plain JSON-RPC with the version header;
/// 2026-07-28: `_meta`, `Mcp-Method` and, for a tool call, `Mcp-Name`).
fn mcp_call(c: &TestClient, token: &str, protocol: &str, id: u64, method: &str, mut params: Value) -> Reply {
    let mut headers = vec![("mcp-protocol-version", protocol)];
    let tool = params.get("name").and_then(Value::as_str).map(str::to_string);
    if protocol == "2026-07-28" {
        params["_meta"] = json!({"io.modelcontextprotocol/protocolVersion": protocol,
                                 "io.modelcontextprotocol/clientCapabilities": {}});
        headers.push(("mcp-method", method));
        if let Some(tool) = tool.as_deref() {
            headers.push(("mcp-name", tool));
        }
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string();
    mcp_post(c, token, &headers, body.as_bytes())
}

/// What a replay produced, for the client-specific assertions.
struct Replayed {
    client_id: String,
    redirect_to: String,
    refresh_token: String,
}

/// Replays one client from discovery to a tool call. `port` fills `{port}` in its redirect.
fn replay(stack: &Stack, fx: &Value, site: &Site, key: Option<&TestKey>, port: u16) -> Replayed {
    let c = &stack.worker.client;
    let gateway = c.base.clone();
    let port = port.to_string();
    let vars = [("site", site.base.as_str()), ("port", port.as_str()), ("gateway", gateway.as_str())];
    let fx = fill(fx, &vars);
    let name = fx["client"].as_str().unwrap_or_default().to_string();
    let method = fx["token_endpoint_auth"].as_str().unwrap();

    // Discovery, as every client starts: a 401 names the resource metadata, which names us.
    let challenge = c.request("POST", "/mcp", &[("content-type", "application/json")], Some(b"{}"));
    assert_eq!(challenge.status, 401, "{name}");
    let prm = c.get("/.well-known/oauth-protected-resource/mcp", None).json();
    assert_eq!(prm["authorization_servers"][0], gateway, "{name}");
    let meta = c.get("/.well-known/oauth-authorization-server", None).json();
    assert!(meta["token_endpoint_auth_methods_supported"].as_array().unwrap().contains(&json!(method)), "{name}");
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);

    let client_id = match fx["registration"].as_str().unwrap() {
        "metadata_document" => {
            assert_eq!(meta["client_id_metadata_document_supported"], true, "{name}");
            fx["client_id"].as_str().unwrap().to_string()
        }
        _ => {
            let registered = c.send_json("POST", "/register", None, &fx["registration_request"]);
            assert_eq!(registered.status, 201, "{name} registers: {}", registered.body);
            let r = registered.json();
            assert_eq!(r["redirect_uris"], fx["registration_request"]["redirect_uris"], "{name}");
            assert!(r.get("client_secret").is_none(), "{name} is a public client");
            r["client_id"].as_str().unwrap().to_string()
        }
    };

    let redirect_uri = fx["redirect_uri"].as_str().unwrap().to_string();
    let resource = format!("{gateway}/mcp");
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("state", "replayed-state"),
        ("code_challenge", PKCE_CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    if let Some(scope) = fx["scope"].as_str() {
        pairs.push(("scope", scope));
    }
    if fx["resource"] == true {
        pairs.push(("resource", resource.as_str()));
    }
    let authorize = format!(
        "{gateway}/authorize?{}",
        url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish()
    );
    // The final redirect is read, never followed: the client's own URI (https, app scheme or loopback).
    let redirect_to = stack.approve_in_browser(&authorize, "write");
    assert!(redirect_to.starts_with(&redirect_uri), "{name}: sent to {redirect_to}");
    assert_eq!(query(&redirect_to, "state").as_deref(), Some("replayed-state"), "{name}");
    assert_eq!(query(&redirect_to, "iss").as_deref(), Some(gateway.as_str()), "{name}");
    let code = query(&redirect_to, "code").expect("code");

    let aud = if fx["assertion_aud"] == "issuer" { gateway.clone() } else { format!("{gateway}/token") };
    let kid = fx["kid"].as_str().unwrap_or("k1").to_string();
    let auth = ClientAuth { client_id: client_id.clone(), key: key.map(|k| (k, kid)), aud };
    let mut redeem: Vec<(String, String)> = vec![
        ("grant_type".into(), "authorization_code".into()),
        ("code".into(), code),
        ("code_verifier".into(), PKCE_VERIFIER.into()),
        ("redirect_uri".into(), redirect_uri.clone()),
    ];
    if fx["resource"] == true {
        redeem.push(("resource".into(), resource.clone()));
    }
    redeem.extend(auth.fields("redeem"));
    let tokens = token_request(c, &redeem);
    assert_eq!(tokens.status, 200, "{name} redeems: {}", tokens.body);
    assert_eq!(tokens.header("cache-control"), Some("no-store"));
    let refresh_token = tokens.json()["refresh_token"].as_str().expect("refresh token").to_string();

    let mut refresh =
        vec![("grant_type".to_string(), "refresh_token".to_string()), ("refresh_token".into(), refresh_token)];
    refresh.extend(auth.fields("refresh"));
    let refreshed = token_request(c, &refresh);
    assert_eq!(refreshed.status, 200, "{name} refreshes: {}", refreshed.body);
    let access_token = refreshed.json()["access_token"].as_str().unwrap().to_string();
    let refresh_token = refreshed.json()["refresh_token"].as_str().unwrap().to_string();
    assert_eq!(refreshed.json()["scope"], "attio:read attio:write", "{name}: write access, as approved");

    let protocol = fx["protocol"].as_str().unwrap();
    let opened = if protocol == "2026-07-28" {
        mcp_call(c, &access_token, protocol, 1, "server/discover", json!({}))
    } else {
        let init =
            json!({"protocolVersion": protocol, "capabilities": {}, "clientInfo": {"name": name, "version": "1"}});
        mcp_call(c, &access_token, protocol, 1, "initialize", init)
    };
    assert_eq!(opened.status, 200, "{name} opens {protocol}: {}", opened.body);
    let whoami = mcp_call(c, &access_token, protocol, 2, "tools/call", json!({"name": "whoami", "arguments": {}}));
    assert_eq!(whoami.status, 200, "{name} calls a tool: {}", whoami.body);
    let result = &whoami.json()["result"];
    assert_ne!(result["isError"], true, "{name}: {result}");
    assert!(result.to_string().contains(ACME_WORKSPACE_ID), "{name}: {result}");
    Replayed { client_id, redirect_to, refresh_token }
}

fn rsa_key_set(key: &TestKey, kid: &str) -> Value {
    json!({"keys": [key.public_jwk(kid)]})
}

#[test]
fn chatgpt_connects_with_private_key_jwt() {
    let stack = stack();
    let fx = fixture("chatgpt");
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let site = client_site(&fx, rsa_key_set(&key, "cimd-20260428030119"));
    let r = replay(&stack, &fx, &site, Some(&key), 0);
    assert!(r.redirect_to.starts_with("https://chatgpt.com/connector_platform_oauth_redirect?"));
    assert_eq!(site.hits("/oauth/client.json"), 1, "the document is fetched once, then cached");
    assert_eq!(site.hits("/oauth/jwks.json"), 1, "the key set is fetched once, then cached");
    // The document also lists none, but declares private_key_jwt: no downgrade.
    let c = &stack.worker.client;
    let public = token_request(
        c,
        &[
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), r.refresh_token.clone()),
            ("client_id".into(), r.client_id.clone()),
        ],
    );
    assert_eq!(public.status, 401, "{}", public.body);
    assert_eq!(public.json()["error"], "invalid_client");
}

#[test]
fn chatgpt_per_connector_document_connects() {
    let stack = stack();
    let fx = fixture("chatgpt-connector");
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let site = client_site(&fx, rsa_key_set(&key, "cimd-20260428030119"));
    let r = replay(&stack, &fx, &site, Some(&key), 0);
    assert!(r.redirect_to.starts_with("https://chatgpt.com/connector/oauth/kDmjx77UnKOM?"));
}

/// Each refusal, against a ChatGPT-shaped client: a forged or stolen-looking assertion never
/// gets a token, and the code it presented is still redeemable afterwards.
#[test]
fn chatgpt_assertions_that_must_be_refused() {
    let stack = stack();
    let c = &stack.worker.client;
    let fx = fixture("chatgpt-connector");
    let key = TestKey::rsa(CLIENT_RSA_PEM);
    let kid = "cimd-20260428030119";
    let site = client_site(&fx, rsa_key_set(&key, kid));
    let fx = fill(&fx, &[("site", site.base.as_str())]);
    let client_id = fx["client_id"].as_str().unwrap().to_string();
    let redirect = fx["redirect_uri"].as_str().unwrap().to_string();
    let authorize = stack.authorize_url(&client_id, &redirect, "/mcp", None);
    let code = query(&stack.approve_in_browser(&authorize, "read"), "code").unwrap();
    let token_url = format!("{}/token", c.base);
    let now = now_secs();
    let claims = |jti: &str| jwt_signer::claims(&client_id, &token_url, now, jti);
    let redeem = |assertion: Option<&str>| {
        let mut pairs = vec![
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".into(), code.clone()),
            ("code_verifier".into(), PKCE_VERIFIER.into()),
            ("redirect_uri".into(), redirect.clone()),
        ];
        match assertion {
            Some(jwt) => {
                pairs.push(("client_assertion_type".into(), ASSERTION_TYPE.into()));
                pairs.push(("client_assertion".into(), jwt.into()));
            }
            None => pairs.push(("client_id".into(), client_id.clone())),
        }
        token_request(c, &pairs)
    };
    let public_n = key.public_jwk(kid)["n"].as_str().unwrap().to_string();
    let mut expired = claims("expired");
    expired["iat"] = json!(now - 900);
    expired["exp"] = json!(now - 600);
    let mut far = claims("far");
    far["exp"] = json!(now + 3600);
    let spent = key.sign(Some(kid), &claims("spent"));
    // Spend `spent`'s jti on a revocation (a harmless call that authenticates the same way).
    let revoke = form_body(&[("token", "x"), ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", &spent)]);
    let revoked = c.request("POST", "/revoke", &[("content-type", "application/x-www-form-urlencoded")], Some(&revoke));
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let cases: Vec<(&str, Option<String>)> = vec![
        ("an assertion signed with another key", Some(TestKey::rsa(OTHER_RSA_PEM).sign(Some(kid), &claims("a")))),
        ("alg none", Some(jwt_signer::unsigned(&claims("b")))),
        ("HS256 keyed with the public key", Some(jwt_signer::hs256(public_n.as_bytes(), Some(kid), &claims("c")))),
        ("ES256 for an RS256 client", Some(TestKey::p256(CLIENT_P256_PEM).sign(Some(kid), &claims("d")))),
        ("an expired assertion", Some(key.sign(Some(kid), &expired))),
        ("exp an hour ahead", Some(key.sign(Some(kid), &far))),
        ("a replayed jti", Some(spent.clone())),
        (
            "aud of another server",
            Some(key.sign(Some(kid), &jwt_signer::claims(&client_id, "https://evil.test/token", now, "e"))),
        ),
        ("no assertion at all", None),
    ];
    for (why, jwt) in cases {
        let r = redeem(jwt.as_deref());
        assert_eq!(r.status, 401, "{why}: {}", r.body);
        assert_eq!(r.json()["error"], "invalid_client", "{why}");
    }
    // None of the refusals spent the code.
    let good = redeem(Some(&key.sign(Some(kid), &claims("good"))));
    assert_eq!(good.status, 200, "{}", good.body);
    // A stream of unknown kids fetches the key set at most once more (within the minute).
    let fetched = site.hits("/oauth/jwks.json");
    for n in 0..10 {
        let r = redeem(Some(&key.sign(Some(&format!("random-{n}")), &claims(&format!("r{n}")))));
        assert_eq!(r.status, 401);
    }
    assert!(site.hits("/oauth/jwks.json") <= fetched + 1, "no fetch amplification");
}

#[test]
fn claude_connects_with_its_metadata_document_over_2026_07_28() {
    let stack = stack();
    let fx = fixture("claude-ai");
    let site = client_site(&fx, Value::Null);
    let r = replay(&stack, &fx, &site, None, 0);
    assert!(r.redirect_to.starts_with("https://claude.ai/api/mcp/auth_callback?"));
    assert_eq!(site.hits("/oauth/mcp-oauth-client-metadata"), 1);
}

#[test]
fn claude_code_connects_from_a_new_loopback_port_each_run() {
    let stack = stack();
    let fx = fixture("claude-code");
    let site = client_site(&fx, Value::Null);
    // Two runs, two random ports, one registered port-less redirect.
    for port in [free_port(), free_port()] {
        let r = replay(&stack, &fx, &site, None, port);
        assert!(r.redirect_to.starts_with(&format!("http://localhost:{port}/callback?")), "{}", r.redirect_to);
    }
}

#[test]
fn vscode_connects_with_its_metadata_document() {
    let stack = stack();
    let fx = fixture("vscode");
    let site = client_site(&fx, Value::Null);
    let r = replay(&stack, &fx, &site, None, 0);
    assert!(r.redirect_to.starts_with("http://127.0.0.1:33418/?"), "{}", r.redirect_to);
}

#[test]
fn cursor_registers_three_redirects_and_uses_its_app_scheme() {
    let stack = stack();
    let fx = fixture("cursor");
    let site = client_site(&fx, Value::Null);
    let r = replay(&stack, &fx, &site, None, 0);
    assert!(r.redirect_to.starts_with("cursor://anysphere.cursor-mcp/oauth/callback?"), "{}", r.redirect_to);
}

#[test]
fn mcp_inspector_registers_with_an_empty_scope() {
    let stack = stack();
    let fx = fixture("mcp-inspector");
    let site = client_site(&fx, Value::Null);
    let r = replay(&stack, &fx, &site, None, 0);
    assert!(r.redirect_to.starts_with("http://localhost:6274/oauth/callback?"));
}

#[test]
fn mcp_remote_registers_with_the_scope_from_our_metadata() {
    let stack = stack();
    let fx = fixture("mcp-remote");
    // mcp-remote takes its scope from the protected-resource metadata's scopes_supported.
    let prm = stack.worker.client.get("/.well-known/oauth-protected-resource/mcp", None).json();
    let joined = prm["scopes_supported"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect::<Vec<_>>();
    assert_eq!(fx["scope"], joined.join(" "));
    let site = client_site(&fx, Value::Null);
    let port = 3335 + 4242;
    let r = replay(&stack, &fx, &site, None, port);
    assert!(r.redirect_to.starts_with(&format!("http://localhost:{port}/oauth/callback?")));
}

/// A registered client with an inline ES256 key (RFC 7591 `jwks`): the positive ES256 path
/// through the runtime's WebCrypto (`r || s` signatures), and its refusal with another key.
#[test]
fn a_registered_client_authenticates_with_an_es256_assertion() {
    let stack = stack();
    let c = &stack.worker.client;
    let key = TestKey::p256(CLIENT_P256_PEM);
    let redirect = "https://backend.example/callback";
    let registration = json!({"client_name": "Signed backend", "redirect_uris": [redirect],
        "token_endpoint_auth_method": "private_key_jwt", "token_endpoint_auth_signing_alg": "ES256",
        "jwks": {"keys": [key.public_jwk("ec-1")]}});
    let registered = c.send_json("POST", "/register", None, &registration);
    assert_eq!(registered.status, 201, "{}", registered.body);
    let client_id = registered.json()["client_id"].as_str().unwrap().to_string();
    let code =
        query(&stack.approve_in_browser(&stack.authorize_url(&client_id, redirect, "/v2", None), "read"), "code")
            .unwrap();
    let token_url = format!("{}/token", c.base);
    let redeem = |jwt: String| {
        let pairs = [
            ("grant_type".to_string(), "authorization_code".to_string()),
            ("code".into(), code.clone()),
            ("code_verifier".into(), PKCE_VERIFIER.into()),
            ("redirect_uri".into(), redirect.into()),
            ("client_assertion_type".into(), ASSERTION_TYPE.into()),
            ("client_assertion".into(), jwt),
        ];
        token_request(c, &pairs)
    };
    // Another P-256 key under the same kid: only WebCrypto's verify can tell.
    let other = TestKey::P256(p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap());
    let forged = other.sign(Some("ec-1"), &jwt_signer::claims(&client_id, &token_url, now_secs(), "x"));
    assert_eq!(redeem(forged).status, 401);
    let tokens = redeem(key.sign(Some("ec-1"), &jwt_signer::claims(&client_id, &token_url, now_secs(), "y")));
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let at = tokens.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(c.get("/v2/self", Some(&at)).status, 200);
}

/// mcp-remote itself (npm, 0.15.1), driven over stdio as a desktop client runs it: it discovers
/// the gateway, registers, prints the consent URL (no browser can open here), and once this
/// test has approved as the person and delivered the code to its loopback callback, it
/// exchanges the code and proxies `initialize` and a tool call.
#[test]
fn mcp_remote_is_driven_for_real_over_stdio() {
    let stack = stack();
    let config = TempDir::new("mcp-remote");
    let callback_port = free_port();
    let server = format!("{}/mcp", stack.worker.client.base);
    let bridge = repo_root().join("node_modules/mcp-remote/dist/proxy.js");
    let port_arg = callback_port.to_string();
    let mut program = NodeProgram::start_interactive(
        &[bridge.as_os_str(), server.as_ref(), port_arg.as_ref()],
        // BROWSER=true: the opener "succeeds" without starting anything.
        &[("MCP_REMOTE_CONFIG_DIR", config.path().to_path_buf()), ("BROWSER", "true".into())],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let authorize = loop {
        let line = program.next_line(deadline).unwrap_or_else(|| panic!("no consent URL:\n{}", program.text()));
        if line.starts_with(&format!("{}/authorize?", stack.worker.client.base)) {
            break line;
        }
    };
    assert_eq!(query(&authorize, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(query(&authorize, "resource").as_deref(), Some(server.as_str()));
    let to_client = stack.approve_in_browser(&authorize, "write");
    let callback = format!("http://localhost:{callback_port}/oauth/callback?");
    assert!(to_client.starts_with(&callback), "{to_client}");
    // The browser's last step: the code arrives at mcp-remote's callback listener.
    let delivered = to_client.replacen("http://localhost:", "http://127.0.0.1:", 1);
    let mut browser = Browser::new(format!("http://127.0.0.1:{callback_port}"));
    assert_eq!(browser.get_absolute(&delivered).status, 200, "{}", program.text());

    let answer = |program: &mut NodeProgram, id: u64| loop {
        let line = program.next_line(deadline).unwrap_or_else(|| panic!("no answer {id}:\n{}", program.text()));
        if let Ok(v) = serde_json::from_str::<Value>(&line) {
            if v["id"] == id {
                break v;
            }
        }
    };
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "e2e", "version": "1"}}});
    program.send_line(&init.to_string());
    let initialized = answer(&mut program, 1);
    assert_eq!(initialized["result"]["protocolVersion"], "2025-11-25", "{initialized}");
    program.send_line(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    program.send_line(r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#);
    let whoami = answer(&mut program, 2);
    assert!(whoami["result"].to_string().contains(ACME_WORKSPACE_ID), "{whoami}");
    assert_ne!(whoami["result"]["isError"], true, "{whoami}");
}

/// Outbound reads are bounded: a metadata document that never ends, drips, or declares a size
/// far over the cap is refused within the fetch deadline, and the gateway keeps serving.
#[test]
fn endless_dripping_and_oversized_documents_are_refused_within_the_deadline() {
    let stack = stack();
    let site = Site::start(|_, path| match path {
        "/endless/client.json" => Some(Served::Endless),
        "/drip/client.json" => Some(Served::Drip),
        "/huge/client.json" => Some(Served::Huge),
        "/lying/client.json" => Some(Served::LyingLength),
        _ => None,
    });
    for (path, within) in [("/endless", 4), ("/huge", 4), ("/lying", 4), ("/drip", 9)] {
        let client_id = site.url(&format!("{path}/client.json"));
        let url = stack.authorize_url(&client_id, "https://app.test/cb", "/mcp", None);
        let started = Instant::now();
        let r = stack.worker.client.get(&url[stack.worker.client.base.len()..], None);
        let took = started.elapsed();
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(took < Duration::from_secs(within), "{path} took {took:?}");
        assert_eq!(site.hits(&format!("{path}/client.json")), 1, "{path}");
        if path == "/drip" {
            assert!(took >= Duration::from_secs(4), "the drip was cut by the 5 s deadline, not earlier: {took:?}");
        }
    }
    assert_eq!(stack.worker.client.get("/health", None).status, 200);
}
