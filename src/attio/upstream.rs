//! The gateway as Attio's OAuth client (RFC 6749 §4.1, Attio's REST-app flavour): the authorize
//! URL, the code exchange and refresh at `/oauth/token` (form-encoded, client_secret_post), and
//! revocation at `/oauth/revoke`.
//!
//! The authorize URL is built by the `oauth2` crate (PKCE S256 challenge, state); the exchange
//! and refresh are two small form POSTs over our [`HttpClient`], read here. 429 and 5xx become
//! transient failures that keep their status, so callers can tell "try again later" from
//! Attio's final word (`invalid_grant`, which means the grant is gone).

use http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use http::{Method, StatusCode};
use oauth2::basic::BasicClient;
use oauth2::{AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl};

use crate::attio::AttioError;
use crate::base::http::{HttpClient, TransportError};
use crate::base::secret::{AttioAccessToken, AttioRefreshToken, PkceVerifier, UpstreamState};
use crate::config::Config;

/// What Attio's token endpoint granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub access: AttioAccessToken,
    pub refresh: Option<AttioRefreshToken>,
    /// Seconds, when the token expires (not documented for REST-app tokens; the other style).
    pub expires_in: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Attio refused with an OAuth error (`invalid_grant`, `invalid_client`, …): final.
    #[error("Attio refused the request: {error}")]
    Rejected { error: String },
    /// Rate limit, server error, timeout or network: worth retrying later.
    #[error(transparent)]
    Transient(AttioError),
    /// A 200 that is not a token response (or an unreadable error). The body is never kept: it
    /// could hold a token.
    #[error("Attio's token endpoint answered something that is not a token response")]
    Malformed,
}

impl UpstreamError {
    /// Whether the grant is gone for good (the person must connect again).
    pub fn is_invalid_grant(&self) -> bool {
        matches!(self, UpstreamError::Rejected { error } if error == "invalid_grant")
    }
}

fn endpoint(base: &url::Url, path: &str) -> String {
    format!("{}{path}", base.as_str().trim_end_matches('/'))
}

/// Attio's authorize URL for this request. `scope` is not sent: Attio configures scopes on the
/// app, not per request.
pub fn authorize_url(
    config: &Config,
    redirect_uri: &str,
    state: &UpstreamState,
    pkce_verifier: Option<&PkceVerifier>,
) -> Result<String, UpstreamError> {
    let auth_url =
        AuthUrl::new(endpoint(&config.attio_app_base, "/authorize")).map_err(|_| UpstreamError::Malformed)?;
    let redirect = RedirectUrl::new(redirect_uri.to_string()).map_err(|_| UpstreamError::Malformed)?;
    let client = BasicClient::new(ClientId::new(config.attio_client_id.clone()))
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect);
    let state = state.expose_secret().clone();
    let mut request = client.authorize_url(move || CsrfToken::new(state));
    if let Some(v) = pkce_verifier {
        request = request.set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
            v.expose_secret().clone(),
        )));
    }
    Ok(request.url().0.to_string())
}

/// Attio's token endpoint's answer (RFC 6749 §5.1). Fields we do not use are ignored.
#[derive(serde::Deserialize)]
struct TokenBody {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(serde::Deserialize)]
struct ErrorBody {
    error: String,
}

/// POSTs `form` (with our client credentials, `client_secret_post`: the only method Attio
/// documents) to Attio's token endpoint and reads the answer. Built here rather than through
/// `oauth2`'s token client, whose response parsing (`serde_path_to_error`, its typed token
/// responses) added size to every bundle for two small JSON shapes.
async fn token_request(
    http: &impl HttpClient,
    config: &Config,
    mut form: Vec<(&str, &str)>,
) -> Result<TokenGrant, UpstreamError> {
    form.push(("client_id", &config.attio_client_id));
    form.push(("client_secret", config.attio_client_secret.expose_secret()));
    let body = serde_urlencoded::to_string(&form).map_err(|_| UpstreamError::Malformed)?;
    let request = http::Request::builder()
        .method(Method::POST)
        .uri(endpoint(&config.attio_app_base, "/oauth/token"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(ACCEPT, "application/json")
        .body(body.into_bytes())
        .map_err(|_| UpstreamError::Malformed)?;
    let response = http.send(request).await.map_err(|t| UpstreamError::Transient(AttioError::Transport(t)))?;
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
        return Err(UpstreamError::Transient(AttioError::RateLimited { retry_after }));
    }
    if status.is_server_error() {
        let body = crate::attio::AttioErrorBody { code: None, kind: None, message: None };
        return Err(UpstreamError::Transient(AttioError::Status { status: status.as_u16(), body }));
    }
    // The body is never kept in an error: a token response holds tokens.
    if status.is_success() {
        let token: TokenBody = serde_json::from_slice(response.body()).map_err(|_| UpstreamError::Malformed)?;
        return Ok(TokenGrant {
            access: AttioAccessToken::new(token.access_token),
            refresh: token.refresh_token.map(AttioRefreshToken::new),
            expires_in: token.expires_in,
        });
    }
    match serde_json::from_slice::<ErrorBody>(response.body()) {
        Ok(e) => Err(UpstreamError::Rejected { error: e.error }),
        Err(_) => Err(UpstreamError::Malformed),
    }
}

/// Exchanges an authorization code (with its PKCE verifier, when one was sent): RFC 6749 §4.1.3,
/// RFC 7636 §4.5.
pub async fn exchange_code(
    http: &impl HttpClient,
    config: &Config,
    redirect_uri: &str,
    code: &str,
    pkce_verifier: Option<&PkceVerifier>,
) -> Result<TokenGrant, UpstreamError> {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirect_uri)];
    if let Some(v) = pkce_verifier {
        form.push(("code_verifier", v.expose_secret()));
    }
    token_request(http, config, form).await
}

/// Spends a refresh token for a new access token (and, usually, a new refresh token): RFC 6749
/// §6.
pub async fn refresh(
    http: &impl HttpClient,
    config: &Config,
    refresh_token: &AttioRefreshToken,
) -> Result<TokenGrant, UpstreamError> {
    let form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose_secret().as_str())];
    token_request(http, config, form).await
}

/// Revokes a token at Attio (`POST /oauth/revoke`, form `token`). A 400 means Attio no longer
/// knows the token, which is the outcome we wanted.
pub async fn revoke(http: &impl HttpClient, config: &Config, token: &str) -> Result<(), AttioError> {
    let body = serde_urlencoded::to_string([("token", token)]).unwrap_or_default();
    let request = http::Request::builder()
        .method(Method::POST)
        .uri(endpoint(&config.attio_app_base, "/oauth/revoke"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body.into_bytes())
        .map_err(|e| AttioError::Transport(TransportError::Network(e.to_string())))?;
    let response = http.send(request).await?;
    match response.status().as_u16() {
        200..=299 | 400 => Ok(()),
        _ => crate::attio::check_status(response).map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ATTIO_APP_BASE_URL;
    use crate::testing::{block_on, complete_settings, reply, FakeHttp, MapSource};

    fn config() -> Config {
        let mut m = complete_settings();
        m.insert(ATTIO_APP_BASE_URL, "http://127.0.0.1:9".into());
        Config::load(&MapSource::new(m)).unwrap()
    }

    fn form(req: &http::Request<Vec<u8>>) -> Vec<(String, String)> {
        serde_urlencoded::from_bytes(req.body()).unwrap()
    }

    #[test]
    fn authorize_url_has_exactly_the_documented_parameters() {
        let url = authorize_url(
            &config(),
            "https://gw.test/oauth/attio/callback",
            &UpstreamState::new("st&ate".into()),
            None,
        )
        .unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        assert_eq!(parsed.path(), "/authorize");
        let q: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("client_id"), Some("client-123"));
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("redirect_uri"), Some("https://gw.test/oauth/attio/callback"));
        assert_eq!(get("state"), Some("st&ate"));
        assert_eq!(get("scope"), None);
        assert_eq!(get("code_challenge"), None);

        let verifier = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let url =
            authorize_url(&config(), "https://gw.test/cb", &UpstreamState::new("s".into()), Some(&verifier)).unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        let q: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
        // RFC 7636 Appendix B.
        assert!(q.contains(&("code_challenge".into(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into())));
        assert!(q.contains(&("code_challenge_method".into(), "S256".into())));
    }

    #[test]
    fn exchange_posts_a_client_secret_post_form() {
        let http = FakeHttp::default();
        http.push(200, r#"{"access_token":"at-1","token_type":"Bearer"}"#);
        let grant = block_on(exchange_code(
            &http,
            &config(),
            "https://gw.test/cb",
            "the-code",
            Some(&PkceVerifier::new("v".repeat(43))),
        ))
        .unwrap();
        assert_eq!(grant.access.expose_secret(), "at-1");
        assert_eq!((grant.refresh, grant.expires_in), (None, None));
        let sent = http.sent.borrow();
        assert_eq!(sent[0].uri(), "http://127.0.0.1:9/oauth/token");
        assert_eq!(sent[0].headers()[CONTENT_TYPE], "application/x-www-form-urlencoded");
        assert!(sent[0].headers().get("authorization").is_none(), "no HTTP Basic: Attio documents client_secret_post");
        let f = form(&sent[0]);
        for (k, v) in [
            ("grant_type", "authorization_code"),
            ("code", "the-code"),
            ("client_id", "client-123"),
            ("client_secret", "s3cr3t-value"),
            ("redirect_uri", "https://gw.test/cb"),
        ] {
            assert!(f.contains(&(k.into(), v.into())), "{k} missing from {f:?}");
        }
        assert!(f.iter().any(|(k, _)| k == "code_verifier"));
    }

    #[test]
    fn expiring_grants_and_refresh() {
        let http = FakeHttp::default();
        http.push(200, r#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#);
        let grant = block_on(refresh(&http, &config(), &AttioRefreshToken::new("rt-1".into()))).unwrap();
        assert_eq!(grant.refresh.unwrap().expose_secret(), "rt-2");
        assert_eq!(grant.expires_in, Some(3600));
        let f = form(&http.sent.borrow()[0]);
        assert!(f.contains(&("grant_type".into(), "refresh_token".into())));
        assert!(f.contains(&("refresh_token".into(), "rt-1".into())));
    }

    #[test]
    fn failures_are_classified() {
        let http = FakeHttp::default();
        let run = |status: u16, body: &str| {
            http.push(status, body);
            block_on(exchange_code(&http, &config(), "https://gw.test/cb", "c", None)).unwrap_err()
        };
        let e = run(400, r#"{"error":"invalid_grant","error_description":"used"}"#);
        assert!(e.is_invalid_grant());
        assert_eq!(
            run(401, r#"{"error":"invalid_client"}"#),
            UpstreamError::Rejected { error: "invalid_client".into() }
        );
        assert!(matches!(
            run(503, "<html>down</html>"),
            UpstreamError::Transient(AttioError::Status { status: 503, .. })
        ));
        assert_eq!(run(200, "<html>not json, maybe at-secret</html>"), UpstreamError::Malformed);
        assert_eq!(run(200, r#"{"token_type":"Bearer"}"#), UpstreamError::Malformed);
        let mut limited = reply(429, "");
        limited.headers_mut().insert(RETRY_AFTER, "1".parse().unwrap());
        http.replies.borrow_mut().push_back(Ok(limited));
        let e = block_on(exchange_code(&http, &config(), "https://gw.test/cb", "c", None)).unwrap_err();
        assert_eq!(e, UpstreamError::Transient(AttioError::RateLimited { retry_after: Some("1".into()) }));
        http.replies.borrow_mut().push_back(Err(TransportError::Timeout(10)));
        let e = block_on(exchange_code(&http, &config(), "https://gw.test/cb", "c", None)).unwrap_err();
        assert_eq!(e, UpstreamError::Transient(AttioError::Transport(TransportError::Timeout(10))));
        // Nothing from a response body leaks into an error.
        assert!(!format!("{:?}", run(200, "at-secret")).contains("at-secret"));
    }

    #[test]
    fn revoke_posts_the_token_and_accepts_unknown() {
        let http = FakeHttp::default();
        http.push(204, "");
        block_on(revoke(&http, &config(), "tok")).unwrap();
        assert_eq!(form(&http.sent.borrow()[0]), vec![("token".to_string(), "tok".to_string())]);
        http.push(400, "");
        block_on(revoke(&http, &config(), "tok")).unwrap();
        http.push(503, "");
        assert!(block_on(revoke(&http, &config(), "tok")).is_err());
    }
}
