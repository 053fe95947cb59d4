//! The gateway as Attio's OAuth client (RFC 6749 §4.1, Attio's REST-app flavour): the authorize
//! URL, the code exchange and refresh at `/oauth/token` (form-encoded, client_secret_post), and
//! revocation at `/oauth/revoke`.
//!
//! The exchange and refresh go through the `oauth2` crate over our [`HttpClient`] (its async
//! client trait has no `Send` bound, so it runs on Workers). Our adapter turns 429 and 5xx into
//! transport-level failures that keep their status, so callers can tell "try again later" from
//! Attio's final word (`invalid_grant`, which means the grant is gone).

use http::header::{CONTENT_TYPE, RETRY_AFTER};
use http::{Method, StatusCode};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};

use crate::attio::AttioError;
use crate::config::Config;
use crate::http::{HttpClient, TransportError};
use crate::secret::{AttioAccessToken, AttioRefreshToken, PkceVerifier, UpstreamState};

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

/// Why the adapter did not hand a response to `oauth2`.
#[derive(Debug, thiserror::Error)]
enum AdapterError {
    #[error(transparent)]
    Transport(TransportError),
    #[error("Attio answered {status}")]
    Status { status: u16, retry_after: Option<String> },
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

fn token_client(
    config: &Config,
    redirect_uri: Option<&str>,
) -> Result<
    BasicClient<
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    >,
    UpstreamError,
> {
    let token_url =
        TokenUrl::new(endpoint(&config.attio_app_base, "/oauth/token")).map_err(|_| UpstreamError::Malformed)?;
    let mut client = BasicClient::new(ClientId::new(config.attio_client_id.clone()))
        .set_client_secret(oauth2::ClientSecret::new(config.attio_client_secret.expose_secret().clone()))
        // Attio documents client_secret_post only.
        .set_auth_type(AuthType::RequestBody)
        .set_token_uri(token_url);
    if let Some(r) = redirect_uri {
        client = client.set_redirect_uri(RedirectUrl::new(r.to_string()).map_err(|_| UpstreamError::Malformed)?);
    }
    Ok(client)
}

async fn send_for_oauth2(
    http: &impl HttpClient,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, AdapterError> {
    let response = http.send(request).await.map_err(AdapterError::Transport)?;
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
        let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
        return Err(AdapterError::Status { status: status.as_u16(), retry_after });
    }
    Ok(response)
}

type OAuthResult =
    Result<oauth2::basic::BasicTokenResponse, RequestTokenError<AdapterError, oauth2::basic::BasicErrorResponse>>;

fn grant_from(result: OAuthResult) -> Result<TokenGrant, UpstreamError> {
    match result {
        Ok(token) => Ok(TokenGrant {
            access: AttioAccessToken::new(token.access_token().secret().clone()),
            refresh: token.refresh_token().map(|r| AttioRefreshToken::new(r.secret().clone())),
            expires_in: token.expires_in().map(|d| d.as_secs()),
        }),
        Err(RequestTokenError::ServerResponse(e)) => {
            Err(UpstreamError::Rejected { error: e.error().as_ref().to_string() })
        }
        Err(RequestTokenError::Request(AdapterError::Transport(t))) => {
            Err(UpstreamError::Transient(AttioError::Transport(t)))
        }
        Err(RequestTokenError::Request(AdapterError::Status { status: 429, retry_after })) => {
            Err(UpstreamError::Transient(AttioError::RateLimited { retry_after }))
        }
        Err(RequestTokenError::Request(AdapterError::Status { status, .. })) => {
            Err(UpstreamError::Transient(AttioError::Status {
                status,
                body: crate::attio::AttioErrorBody { code: None, kind: None, message: None },
            }))
        }
        Err(RequestTokenError::Parse(..) | RequestTokenError::Other(_)) => Err(UpstreamError::Malformed),
    }
}

/// Exchanges an authorization code (with its PKCE verifier, when one was sent).
pub async fn exchange_code(
    http: &impl HttpClient,
    config: &Config,
    redirect_uri: &str,
    code: &str,
    pkce_verifier: Option<&PkceVerifier>,
) -> Result<TokenGrant, UpstreamError> {
    let client = token_client(config, Some(redirect_uri))?;
    let mut request = client.exchange_code(AuthorizationCode::new(code.to_string()));
    if let Some(v) = pkce_verifier {
        request = request.set_pkce_verifier(PkceCodeVerifier::new(v.expose_secret().clone()));
    }
    let send = |req: oauth2::HttpRequest| send_for_oauth2(http, req);
    grant_from(request.request_async(&send).await)
}

/// Spends a refresh token for a new access token (and, usually, a new refresh token).
pub async fn refresh(
    http: &impl HttpClient,
    config: &Config,
    refresh_token: &AttioRefreshToken,
) -> Result<TokenGrant, UpstreamError> {
    let client = token_client(config, None)?;
    let token = RefreshToken::new(refresh_token.expose_secret().clone());
    let send = |req: oauth2::HttpRequest| send_for_oauth2(http, req);
    grant_from(client.exchange_refresh_token(&token).request_async(&send).await)
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
