//! Bearer tokens on protected routes (RFC 6750 §2.1, §3; RFC 9728 §5.1): reading the
//! `Authorization` header (never a query parameter), and the `WWW-Authenticate` challenge that
//! points clients at our protected-resource metadata with an absolute URL.

use http::header::AUTHORIZATION;

use super::metadata::Audience;
use crate::base::http::Request;

/// An `Authorization` header that is not one well-formed bearer credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed Authorization header")]
pub struct MalformedAuthorization;

/// The bearer token, `Ok(None)` when there is no `Authorization` header.
pub fn token(req: &Request) -> Result<Option<&str>, MalformedAuthorization> {
    let mut values = req.headers().get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(MalformedAuthorization);
    }
    let value = value.to_str().map_err(|_| MalformedAuthorization)?;
    let (scheme, rest) = value.split_once(' ').ok_or(MalformedAuthorization)?;
    let token = rest.trim();
    let token_chars = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=');
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || !token.bytes().all(token_chars) {
        return Err(MalformedAuthorization);
    }
    Ok(Some(token))
}

/// `WWW-Authenticate` for a 401 (`error` set when a token was presented) or a 403.
pub fn challenge(origin: &str, audience: Audience, error: Option<&str>, scope: Option<&str>) -> String {
    let mut out = format!("Bearer resource_metadata=\"{}\"", audience.metadata_url(origin));
    if let Some(e) = error {
        out.push_str(&format!(", error=\"{e}\""));
    }
    if let Some(s) = scope {
        out.push_str(&format!(", scope=\"{s}\""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(auth: &[&str]) -> Request {
        let mut b = http::Request::builder();
        for a in auth {
            b = b.header(AUTHORIZATION, *a);
        }
        b.body(Vec::new()).unwrap()
    }

    #[test]
    fn parses_bearer_headers_strictly() {
        assert_eq!(token(&req(&[])), Ok(None));
        assert_eq!(token(&req(&["Bearer agwa.x.y"])), Ok(Some("agwa.x.y")));
        assert_eq!(token(&req(&["bearer abc"])), Ok(Some("abc")));
        for bad in ["Basic YTpi", "Bearer", "Bearer ", "Bearer a b", "Bearer a\"b", "Token abc"] {
            assert_eq!(token(&req(&[bad])), Err(MalformedAuthorization), "{bad}");
        }
        assert_eq!(token(&req(&["Bearer a", "Bearer b"])), Err(MalformedAuthorization), "two headers");
    }

    #[test]
    fn challenges_carry_an_absolute_metadata_url() {
        let c = challenge("https://gw.test", Audience::Mcp, Some("invalid_token"), None);
        assert_eq!(c, "Bearer resource_metadata=\"https://gw.test/.well-known/oauth-protected-resource/mcp\", error=\"invalid_token\"");
        let c = challenge("https://gw.test", Audience::Api, Some("insufficient_scope"), Some("attio:write"));
        assert!(c.ends_with("error=\"insufficient_scope\", scope=\"attio:write\""));
    }
}
