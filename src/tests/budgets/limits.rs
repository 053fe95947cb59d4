//! Rate limits at the shipped defaults (`wrangler.toml`, which the test double enforces):
//! bursts from one address are refused with 429 and `Retry-After`, the storage they can cause
//! stays bounded, and one person using several apps is never limited.

use crate::auth::rate_limit::Limit;
use crate::tests::flow::*;
use crate::tests::*;

fn registration() -> Request {
    post_json("/register", &format!(r#"{{"redirect_uris":["{CLIENT_REDIRECT}"],"token_endpoint_auth_method":"none"}}"#))
}

#[test]
fn a_registration_burst_from_one_address_is_refused_after_the_limit_and_stores_nothing() {
    let p = FakePlatform::with_settings(loopback_settings());
    let limit = Limit::Registration.default_per_minute() as usize;
    let statuses: Vec<u16> =
        (0..limit + 30).map(|_| run(&p, from_address(registration(), "203.0.113.7")).status().as_u16()).collect();
    assert!(statuses[..limit].iter().all(|s| *s == 201), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    let refused = run(&p, from_address(registration(), "203.0.113.7"));
    assert_eq!(refused.headers()["retry-after"], "60");
    assert_eq!(body(&refused)["error"], "rate_limited");
    assert_eq!(p.kv_keys(), Vec::<String>::new(), "registrations store nothing, within the limit or past it");
    // Another address is not affected; the next minute starts afresh.
    assert_eq!(run(&p, from_address(registration(), "198.51.100.2")).status(), 201);
    p.advance_ms(60_000);
    assert_eq!(run(&p, from_address(registration(), "203.0.113.7")).status(), 201);
}

/// Issue 27: `/revoke` had no limit at all: failed client authentications there now count like
/// `/token`'s, and past the limit the answer is 429.
#[test]
fn failed_client_authentications_at_revoke_are_limited() {
    let p = FakePlatform::with_settings(loopback_settings());
    let limit = Limit::TokenFailures.default_per_minute() as usize;
    let attempt = || {
        let req = form("/revoke", &[("client_id", "mcp_unknown"), ("token", "agwa.x.y")], &[]);
        run(&p, from_address(req, "203.0.113.21")).status().as_u16()
    };
    let statuses: Vec<u16> = (0..limit + 3).map(|_| attempt()).collect();
    assert!(statuses[..limit].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
}

/// Issue 27: an IPv6 client's whole /64 shares one budget (it may pick any of 2^64 addresses).
#[test]
fn registrations_from_one_ipv6_64_share_a_budget() {
    let p = FakePlatform::with_settings(loopback_settings());
    let limit = Limit::Registration.default_per_minute() as usize;
    let statuses: Vec<u16> = (0..limit + 5)
        .map(|i| run(&p, from_address(registration(), &format!("2001:db8:aa:bb::{:x}", i + 1))).status().as_u16())
        .collect();
    assert!(statuses[..limit].iter().all(|s| *s == 201), "{statuses:?}");
    assert!(statuses[limit..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(run(&p, from_address(registration(), "2001:db8:aa:bc::1")).status(), 201, "another /64");
}

#[test]
fn starting_flows_from_one_address_is_limited_with_a_page_that_says_so() {
    let p = FakePlatform::with_settings(loopback_settings());
    let client_id = register(&p);
    let limit = Limit::Flows.default_per_minute() as usize;
    let authorize = || {
        from_address(
            get(&format!("/authorize?{}", authorize_query(&client_id, "https://gateway.test/mcp"))),
            "203.0.113.8",
        )
    };
    for _ in 0..limit {
        assert_eq!(run(&p, authorize()).status(), 200);
    }
    let refused = run(&p, authorize());
    assert_eq!(refused.status(), 429);
    assert_eq!(refused.headers()["retry-after"], "60");
    assert!(text(&refused).contains("Wait a minute"), "an explanatory page");
    // /connect, the consent decision and Attio's callback share the budget (none stores
    // anything, but each may load a client or send a code to Attio).
    let connect = run(&p, from_address(get("/connect"), "203.0.113.8"));
    assert_eq!(connect.status(), 429);
    let decision = from_address(form("/authorize", &[("request", "x"), ("csrf", "y")], &[]), "203.0.113.8");
    assert_eq!(run(&p, decision).status(), 429);
    let back = from_address(get("/oauth/attio/callback?code=c&state=s"), "203.0.113.8");
    assert_eq!(run(&p, back).status(), 429);
    assert_eq!(run(&p, from_address(get("/connect"), "198.51.100.3")).status(), 302, "another address signs in");
    // Opening the consent page stores nothing, however often.
    let calls = p.take_calls();
    let stored: Vec<&String> =
        calls.iter().filter(|c| c.starts_with("kv put") || (c.starts_with("do ") && !c.ends_with(" get"))).collect();
    assert!(stored.is_empty(), "nothing stored: {stored:?}");
}

#[test]
fn failed_token_attempts_are_limited_per_client_and_successes_are_not() {
    let p = FakePlatform::with_settings(loopback_settings());
    let (client_id, code, _) = obtain_code(&p, "https://gateway.test/mcp", "read");
    let bad_refresh = || refresh_request(&client_id, "agwr.x.y");
    let limit = Limit::TokenFailures.default_per_minute() as usize;
    for i in 0..limit {
        // Spread over addresses: the per-client count is what is exercised here.
        let r = run(&p, from_address(bad_refresh(), &format!("192.0.2.{i}")));
        assert_eq!(body(&r)["error"], "invalid_grant", "attempt {i}");
    }
    let limited = run(&p, from_address(bad_refresh(), "192.0.2.200"));
    assert_eq!(limited.status(), 429);
    assert_eq!(body(&limited)["error"], "rate_limited");
    assert_eq!(limited.headers()["retry-after"], "60");
    // A correct request still succeeds: only failures are counted, so a flood of bad attempts
    // under a real app's id cannot lock its users out.
    let ok = redeem(&p, &client_id, &code, VERIFIER);
    assert_eq!(ok.status(), 200, "{}", text(&ok));
}

#[test]
fn failed_token_attempts_are_limited_per_address_across_clients() {
    let p = FakePlatform::with_settings(loopback_settings());
    let limit = Limit::TokenFailures.default_per_minute() as usize;
    let attempt = |i: usize| {
        let id = format!("mcp_guess{i}");
        from_address(refresh_request(&id, "agwr.x.y"), "203.0.113.9")
    };
    for i in 0..limit {
        assert_ne!(run(&p, attempt(i)).status(), 429, "attempt {i}");
    }
    assert_eq!(run(&p, attempt(limit)).status(), 429, "a fresh client id per attempt does not escape the limit");
}

#[test]
fn one_person_with_several_apps_is_never_limited() {
    let p = FakePlatform::with_settings(loopback_settings());
    // Five apps, each registered, authorized for both resources, redeemed and refreshed a few
    // times, all from one address within one minute.
    for _ in 0..5 {
        for resource in ["https://gateway.test/mcp", "https://gateway.test/v2"] {
            let (client_id, code, _) = obtain_code(&p, resource, "write");
            let tokens = body(&redeem(&p, &client_id, &code, VERIFIER));
            let mut refresh = tokens["refresh_token"].as_str().unwrap().to_string();
            for _ in 0..3 {
                let r = run(&p, refresh_request(&client_id, &refresh));
                assert_eq!(r.status(), 200, "{}", text(&r));
                refresh = body(&r)["refresh_token"].as_str().unwrap().to_string();
            }
        }
    }
}

#[test]
fn without_the_bindings_the_limits_are_off_and_health_says_so() {
    let mut p = FakePlatform::with_settings(loopback_settings());
    p.settings.missing_bindings = vec![Limit::Registration.binding()];
    for _ in 0..Limit::Registration.default_per_minute() + 5 {
        assert_eq!(run(&p, registration()).status(), 201);
    }
    let health = run(&p, get("/health"));
    assert_eq!(health.status(), 200, "an optional binding does not stop the gateway");
    assert!(body(&health)["warnings"].to_string().contains("LIMIT_REGISTRATION"), "{}", text(&health));
}
