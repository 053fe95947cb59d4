//! Cloudflare Access in front of the pages people use. When `ACCESS_TEAM_DOMAIN` and
//! `ACCESS_AUD` are set, Cloudflare Access (Zero Trust) guards the gateway's hostname and adds to
//! each request it lets through a `Cf-Access-Jwt-Assertion` header: an RS256 JWT signed by the
//! team's keys (published at `<team>/cdn-cgi/access/certs`). The gateway verifies it itself
//! rather than trusting the network path (a request that reaches the worker another way, such
//! as `workers.dev`, carries none): the signature against the team's keys (cached, refetched at
//! most once a minute when a token names an unknown key), `iss` = the team's origin, `aud`
//! holding the application's AUD tag, `exp` in the future and `nbf`/`iat` not. The verified
//! email is who the person is to the gateway's pages and audit log.
//!
//! Only the pages a person uses are gated (`/connect`, consent, `/account`, `/admin`); `/mcp`,
//! `/v2/*` and the OAuth endpoints are called by programs and keep their own authentication.

use serde_json::Value;

use crate::auth::clients::{self, KeysError};
use crate::base::http::{header_str, Request};
use crate::config::{AccessSettings, Config};
use crate::oauth::clients::assertion;
use crate::platform::Platform;

/// The header Cloudflare Access adds to each request it admits.
pub const HEADER: &str = "cf-access-jwt-assertion";
/// Under which name the team's keys are cached.
const KEYS_OWNER: &str = "cloudflare-access";
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: u64 = 60;

/// What Access says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Access is not configured: the pages are open as before.
    Off,
    /// A valid Access token for this person.
    Admitted { email: String },
    /// No valid token; why, for the refusal page (never the token itself).
    Refused(&'static str),
}

/// Checks the request's Access token, when Access is configured.
pub async fn check<P: Platform>(p: &P, config: &Config, req: &Request) -> Gate {
    let Some(access) = &config.access else { return Gate::Off };
    let Some(token) = header_str(req, HEADER) else {
        return Gate::Refused("no Cloudflare Access login came with this request");
    };
    match verify(p, access, token).await {
        Ok(email) => Gate::Admitted { email },
        Err(why) => {
            p.log("access.refused", why);
            Gate::Refused(why)
        }
    }
}

async fn verify<P: Platform>(p: &P, access: &AccessSettings, token: &str) -> Result<String, &'static str> {
    let jwt = assertion::parse(token).map_err(|_| "the Cloudflare Access token is not a signed JWT")?;
    if jwt.alg.as_str() != "RS256" {
        return Err("the Cloudflare Access token is not signed with RS256");
    }
    let email = claims_ok(&jwt.claims, access, p.now_ms() / 1000)?;
    let certs = format!("{}/cdn-cgi/access/certs", access.team);
    let keys_error = |_: KeysError| "the Cloudflare Access keys could not be fetched";
    let mut keys = clients::key_set(p, KEYS_OWNER, &certs, false).await.map_err(keys_error)?;
    if assertion::candidate_keys(&jwt, &keys).is_empty() {
        // The team may have rotated its keys since they were cached.
        keys = clients::key_set(p, KEYS_OWNER, &certs, true).await.map_err(keys_error)?;
    }
    for key in assertion::candidate_keys(&jwt, &keys) {
        if p.verify_signature(&key.key, &jwt.signing_input, &jwt.signature).await {
            return Ok(email);
        }
    }
    Err("the Cloudflare Access token's signature does not verify")
}

/// The claims a valid token has; its email.
fn claims_ok(claims: &Value, access: &AccessSettings, now: u64) -> Result<String, &'static str> {
    if claims.get("iss").and_then(Value::as_str) != Some(access.team.as_str()) {
        return Err("the Cloudflare Access token is from another team");
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => *a == access.aud,
        Some(Value::Array(all)) => all.iter().any(|a| a.as_str() == Some(access.aud.as_str())),
        _ => false,
    };
    if !aud_ok {
        return Err("the Cloudflare Access token is for another application");
    }
    let time = |k: &str| claims.get(k).and_then(Value::as_u64);
    match time("exp") {
        Some(exp) if exp + LEEWAY_SECS > now => {}
        Some(_) => return Err("the Cloudflare Access token has expired"),
        None => return Err("the Cloudflare Access token has no expiry"),
    }
    if ["nbf", "iat"].iter().any(|k| time(k).is_some_and(|t| t > now + LEEWAY_SECS)) {
        return Err("the Cloudflare Access token is not valid yet");
    }
    claims
        .get("email")
        .and_then(Value::as_str)
        .filter(|e| e.contains('@') && e.len() <= 320)
        .map(str::to_ascii_lowercase)
        .ok_or("the Cloudflare Access token names no email")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn access() -> AccessSettings {
        AccessSettings { team: "https://acme.cloudflareaccess.com".into(), aud: "aud0123456789".into() }
    }

    #[test]
    fn claims_must_name_our_team_and_application_and_be_current() {
        let now = 1_800_000_000;
        let good = json!({"iss": "https://acme.cloudflareaccess.com", "aud": ["aud0123456789"], "exp": now + 600,
            "iat": now - 10, "nbf": now - 10, "email": "Ada@Acme.example"});
        assert_eq!(claims_ok(&good, &access(), now), Ok("ada@acme.example".into()));
        let with = |k: &str, v: Value| {
            let mut c = good.clone();
            c[k] = v;
            claims_ok(&c, &access(), now)
        };
        assert!(with("iss", json!("https://evil.cloudflareaccess.com")).unwrap_err().contains("another team"));
        assert!(with("aud", json!(["other"])).unwrap_err().contains("another application"));
        assert!(with("aud", json!("aud0123456789")).is_ok(), "a single audience string");
        assert!(with("exp", json!(now - 61)).unwrap_err().contains("expired"));
        assert!(with("nbf", json!(now + 600)).unwrap_err().contains("not valid yet"));
        assert!(with("email", json!(null)).unwrap_err().contains("no email"));
    }
}
