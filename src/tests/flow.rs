//! The steps of the authorization flow the route-family tests share: register a client,
//! authorize, approve, sign in at the (scripted) Attio, redeem, and call protected routes.

use super::*;

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub const CLIENT_REDIRECT: &str = "http://127.0.0.1:7777/callback";

pub fn register(p: &FakePlatform) -> String {
    let r = run(
        p,
        post_json(
            "/register",
            &format!(
                r#"{{"client_name":"Test <Client>","redirect_uris":["{CLIENT_REDIRECT}"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"]}}"#
            ),
        ),
    );
    body(&r)["client_id"].as_str().unwrap().to_string()
}

/// `req` as Cloudflare delivers it from `address` (`CF-Connecting-IP`).
pub fn from_address(mut req: Request, address: &str) -> Request {
    req.headers_mut().insert("cf-connecting-ip", address.parse().unwrap());
    req
}

pub fn form(path: &str, pairs: &[(&str, &str)], jar: &[String]) -> Request {
    let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    http::Request::post(format!("https://gateway.test{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(COOKIE, jar.join("; "))
        .body(body.into_bytes())
        .unwrap()
}

pub fn hidden(page: &str, name: &str) -> String {
    page.split(&format!("name={name} value=\"")).nth(1).unwrap().split('"').next().unwrap().to_string()
}

pub fn query(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location).unwrap().query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

pub fn authorize_query(client_id: &str, resource: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CLIENT_REDIRECT),
            ("state", "client-state&x"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
            ("resource", resource),
        ])
        .finish()
}

/// Register → authorize → consent → Attio sign-in (scripted) → code. Returns (client, code, session jar).
pub fn obtain_code(p: &FakePlatform, resource: &str, access: &str) -> (String, String, Vec<String>) {
    let client_id = register(p);
    obtain_code_for(p, client_id, resource, access)
}

/// The same for a client already registered.
pub fn obtain_code_for(
    p: &FakePlatform,
    client_id: String,
    resource: &str,
    access: &str,
) -> (String, String, Vec<String>) {
    obtain_code_choosing(p, client_id, resource, &[("access", access)])
}

/// The same, with the consent form's choices given (access, tool groups).
pub fn obtain_code_choosing(
    p: &FakePlatform,
    client_id: String,
    resource: &str,
    choices: &[(&str, &str)],
) -> (String, String, Vec<String>) {
    let consent = run(p, get(&format!("/authorize?{}", authorize_query(&client_id, resource))));
    assert_eq!(consent.status(), 200, "{}", text(&consent));
    assert_eq!(consent.headers()["x-frame-options"], "DENY");
    assert!(consent.headers().get("access-control-allow-origin").is_none(), "no CORS on /authorize");
    let page = text(&consent);
    assert!(page.contains("&lt;Client&gt;"), "client name escaped");
    assert!(page.contains("127.0.0.1"), "redirect host shown");
    let jar = cookies(&consent);
    let (request, csrf) = (hidden(&page, "request"), hidden(&page, "csrf"));
    let mut fields = vec![("request", request.as_str()), ("csrf", csrf.as_str()), ("decision", "approve")];
    fields.extend_from_slice(choices);
    let decision = run(p, form("/authorize", &fields, &jar));
    assert_eq!(decision.status(), 303, "{}", text(&decision));
    let to_attio = decision.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to_attio.starts_with("http://127.0.0.1:9/authorize"), "{to_attio}");
    let state = query(&to_attio, "state").unwrap();
    let connect_jar = cookies(&decision);
    script_successful_exchange(p);
    let back = callback(p, &format!("code=attio-code&state={state}"), &connect_jar);
    assert_eq!(back.status(), 303, "{}", text(&back));
    let to_client = back.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(to_client.starts_with(CLIENT_REDIRECT), "{to_client}");
    assert_eq!(query(&to_client, "state").as_deref(), Some("client-state&x"), "state byte-exact");
    assert_eq!(query(&to_client, "iss").as_deref(), Some("https://gateway.test"));
    (client_id, query(&to_client, "code").unwrap(), cookies(&back))
}

/// `POST /token` with `grant_type=refresh_token` for a public client.
pub fn refresh_request(client_id: &str, refresh_token: &str) -> Request {
    form("/token", &[("grant_type", "refresh_token"), ("client_id", client_id), ("refresh_token", refresh_token)], &[])
}

pub fn redeem(p: &FakePlatform, client_id: &str, code: &str, verifier: &str) -> Response {
    run(
        p,
        form(
            "/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", client_id),
                ("code", code),
                ("code_verifier", verifier),
                ("redirect_uri", CLIENT_REDIRECT),
            ],
            &[],
        ),
    )
}

pub fn bearer_get(p: &FakePlatform, path: &str, token: &str) -> Response {
    let req = http::Request::get(format!("https://gateway.test{path}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Vec::new())
        .unwrap();
    run(p, req)
}

pub fn account_post(p: &FakePlatform, jar: &[String], form_body: &str, origin: Option<&str>) -> Response {
    let mut b = http::Request::post("https://gateway.test/account/revoke")
        .header(COOKIE, jar.join("; "))
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(o) = origin {
        b = b.header("origin", o);
    }
    run(p, b.body(form_body.as_bytes().to_vec()).unwrap())
}

pub fn authorize_again(p: &FakePlatform, client_id: &str, jar: &[String], fetch_site: Option<&str>) -> Response {
    let mut req = with_cookies(&format!("/authorize?{}", authorize_query(client_id, "https://gateway.test/mcp")), jar);
    if let Some(site) = fetch_site {
        req.headers_mut().insert("sec-fetch-site", site.parse().unwrap());
    }
    run(p, req)
}

pub fn proxy_token(p: &FakePlatform, access: &str) -> String {
    let (client_id, code, _) = obtain_code(p, "https://gateway.test/v2", access);
    body(&redeem(p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string()
}

pub fn proxied(p: &FakePlatform, method: &str, path: &str, token: &str, body_text: &str) -> Response {
    let req = http::Request::builder()
        .method(method)
        .uri(format!("https://gateway.test{path}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("cookie", "__Host-agw-session=secret-cookie")
        .header("x-forwarded-for", "6.6.6.6")
        .body(body_text.as_bytes().to_vec())
        .unwrap();
    run(p, req)
}

pub fn mcp_token(p: &FakePlatform, access: &str) -> String {
    let (client_id, code, _) = obtain_code(p, "https://gateway.test/mcp", access);
    body(&redeem(p, &client_id, &code, VERIFIER))["access_token"].as_str().unwrap().to_string()
}

pub fn mcp(p: &FakePlatform, token: &str, message: &str, headers: &[(&str, &str)]) -> Response {
    mcp_at(p, "https://gateway.test/mcp", token, message, headers)
}

pub fn mcp_at(p: &FakePlatform, url: &str, token: &str, message: &str, headers: &[(&str, &str)]) -> Response {
    let mut b = http::Request::post(url)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    run(p, b.body(message.as_bytes().to_vec()).unwrap())
}

/// Disconnects Attio from the status page (its CSRF token), Attio accepting the revocation.
pub fn disconnect_from_status(p: &FakePlatform, jar: &[String]) -> Response {
    p.http.push(200, SELF_ACTIVE);
    let page = text(&run(p, with_cookies("/connect/status", jar)));
    let csrf = hidden(&page, "csrf");
    p.http.push(204, "");
    let disconnect = http::Request::post("https://gateway.test/connect/disconnect")
        .header(COOKIE, jar.join("; "))
        .header("origin", "https://gateway.test")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}").into_bytes())
        .unwrap();
    run(p, disconnect)
}

/// The same person signs in with Attio again: their new session cookies.
pub fn connect_again(p: &FakePlatform) -> Vec<String> {
    let (state, connect_jar) = start(p);
    script_successful_exchange(p);
    let back = callback(p, &format!("code=attio-code&state={state}"), &connect_jar);
    assert_eq!(back.status(), 303, "{}", text(&back));
    cookies(&back)
}
