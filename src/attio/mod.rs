//! Everything that talks to Attio. Its REST API here: building requests (pure), sending them
//! through an [`HttpClient`], and turning responses into values or an [`AttioError`]; beside it
//! the gateway as Attio's OAuth client ([`upstream`]), the sign-in ([`sign_in`]), each person's
//! connection ([`connection`]) and the vault that keeps it sealed ([`vault`]).
//! May use `base`, `config`, `crypto`, `platform` and `store`; never `routes` or the edge.
//!
//! Attio conventions (`shared/reference/attio-api.md` §2): JSON bodies, `{"data": …}` envelopes
//! (except `/v2/self`), errors as `{"status_code","type","code","message"}`, and 429 with a
//! `Retry-After` HTTP-date.

pub mod connection;
pub mod identity;
pub mod members;
pub mod sign_in;
pub mod upstream;
pub mod vault;

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use http::{Method, StatusCode};
use url::Url;

use crate::base::http::{HttpClient, Request, Response, TransportError};
use crate::base::secret::AttioAccessToken;

/// Attio's REST API at a configured base URL.
#[derive(Debug, Clone)]
pub struct AttioApi {
    base: Url,
}

/// Attio's error envelope, as far as we rely on it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AttioErrorBody {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttioError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// 429: `retry_after` is Attio's header value (an HTTP-date, or seconds).
    #[error("Attio rate limit reached")]
    RateLimited { retry_after: Option<String> },
    /// 401: the token is missing, revoked or expired.
    #[error("Attio rejected the access token")]
    Unauthorized,
    #[error("Attio answered {status}: {}", body.message.as_deref().unwrap_or("no message"))]
    Status { status: u16, body: AttioErrorBody },
    #[error("Attio's response could not be read: {0}")]
    Decode(String),
}

impl AttioApi {
    pub fn new(base: Url) -> Self {
        Self { base }
    }

    /// `{base}{path}`: `path` is an Attio API path as Attio documents it (`/v2/…`), built by
    /// our own code or checked by [`crate::control::proxy_policy::upstream_path`], so it cannot leave the
    /// API's `/v2/` prefix.
    fn url(&self, path: &str) -> String {
        debug_assert!(path.starts_with("/v2/"), "Attio paths start with /v2/");
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    /// A request for `path` (`/v2/…`, with any query) with the bearer token and JSON headers.
    pub fn request(&self, method: Method, path: &str, token: &AttioAccessToken, body: Option<Vec<u8>>) -> Request {
        let has_body = body.is_some();
        let mut builder = http::Request::builder()
            .method(method)
            .uri(self.url(path))
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, format!("Bearer {}", token.expose_secret()));
        if has_body {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        // Only fails on an invalid URI or header, which a configured base URL and a token of
        // printable characters cannot produce; an empty request then fails upstream cleanly.
        builder.body(body.unwrap_or_default()).unwrap_or_default()
    }

    /// A caller's request forwarded as it came (the REST proxy): `target` is the `/v2/…` path
    /// and query [`crate::control::proxy_policy`] already checked, `headers` the ones it lets through,
    /// and the person's token replaces any credential.
    pub fn forwarded(
        &self,
        method: Method,
        target: &str,
        headers: http::HeaderMap,
        body: Vec<u8>,
        token: &AttioAccessToken,
    ) -> Result<Request, AttioError> {
        let invalid = |e: http::Error| AttioError::Transport(TransportError::Network(e.to_string()));
        let mut request = http::Request::builder().method(method).uri(self.url(target)).body(body).map_err(invalid)?;
        *request.headers_mut() = headers;
        let bearer =
            http::HeaderValue::from_str(&format!("Bearer {}", token.expose_secret())).map_err(|e| invalid(e.into()))?;
        request.headers_mut().insert(AUTHORIZATION, bearer);
        Ok(request)
    }

    /// Sends a request and returns the body of a 2xx answer.
    pub async fn send(&self, http: &impl HttpClient, request: Request) -> Result<Vec<u8>, AttioError> {
        let response = http.send(request).await?;
        check_status(response)
    }
}

/// How many seconds a `Retry-After` value asks to wait (RFC 9110 §10.2.3): delay-seconds, or an
/// IMF-fixdate (`Tue, 23 May 2023 14:42:01 GMT`, the form Attio sends) counted from `now_ms`.
/// At least 1; `None` for a value in neither form.
pub fn retry_after_secs(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs.max(1));
    }
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let hms: Vec<i64> = time.split(':').map(str::parse).collect::<Result<_, _>>().ok()?;
    let [h, m, s] = hms.as_slice() else { return None };
    // Days from the civil date (proleptic Gregorian, 400-year eras).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let at = days * 86_400 + h * 3600 + m * 60 + s;
    let now = i64::try_from(now_ms / 1000).ok()?;
    Some(u64::try_from(at - now).unwrap_or(0).max(1))
}

/// Maps a non-2xx Attio response to an [`AttioError`].
pub fn check_status(response: Response) -> Result<Vec<u8>, AttioError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response.into_body());
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
        return Err(AttioError::RateLimited { retry_after });
    }
    if status == StatusCode::UNAUTHORIZED {
        return Err(AttioError::Unauthorized);
    }
    let body = serde_json::from_slice::<AttioErrorBody>(response.body()).unwrap_or(AttioErrorBody {
        code: None,
        kind: None,
        message: None,
    });
    Err(AttioError::Status { status: status.as_u16(), body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_stay_under_v2_and_carry_the_token() {
        let api = AttioApi::new(Url::parse("https://api.attio.com").unwrap());
        let token = AttioAccessToken::new("tok".into());
        let req = api.request(Method::GET, "/v2/self", &token, None);
        assert_eq!(req.uri(), "https://api.attio.com/v2/self");
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer tok");
        assert!(req.headers().get(CONTENT_TYPE).is_none());

        let api = AttioApi::new(crate::config::parse_base_url("http://127.0.0.1:9/prefix/").unwrap());
        assert_eq!(
            api.request(Method::POST, "/v2/objects", &token, Some(vec![])).uri(),
            "http://127.0.0.1:9/prefix/v2/objects"
        );
    }

    #[test]
    fn retry_after_in_both_forms() {
        // 2023-05-23T14:42:01Z is 1,684,852,921 s after the epoch.
        let now_ms = 1_684_852_921_000 - 30_000;
        assert_eq!(retry_after_secs("Tue, 23 May 2023 14:42:01 GMT", now_ms), Some(30));
        assert_eq!(retry_after_secs("Tue, 23 May 2023 14:42:01 GMT", now_ms + 60_000), Some(1), "in the past");
        assert_eq!(retry_after_secs("Thu, 29 Feb 2024 00:00:00 GMT", 1_709_164_800_000 - 5_000), Some(5), "leap day");
        assert_eq!(retry_after_secs(" 12 ", 0), Some(12));
        assert_eq!(retry_after_secs("0", 0), Some(1));
        for bad in ["soon", "Tue, 23 Mai 2023 14:42:01 GMT", "Tue, 23 May 2023 14:42 GMT", ""] {
            assert_eq!(retry_after_secs(bad, 0), None, "{bad}");
        }
    }

    #[test]
    fn statuses_map_to_errors() {
        let resp = |status: u16, body: &str| {
            let mut r = http::Response::new(body.as_bytes().to_vec());
            *r.status_mut() = StatusCode::from_u16(status).unwrap();
            r
        };
        assert_eq!(check_status(resp(200, "{}")).unwrap(), b"{}");
        assert_eq!(check_status(resp(401, "")).unwrap_err(), AttioError::Unauthorized);
        let mut limited = resp(429, "");
        limited.headers_mut().insert(RETRY_AFTER, "Tue, 23 May 2023 14:42:01 GMT".parse().unwrap());
        assert_eq!(
            check_status(limited).unwrap_err(),
            AttioError::RateLimited { retry_after: Some("Tue, 23 May 2023 14:42:01 GMT".into()) }
        );
        let not_found = check_status(resp(
            404,
            r#"{"status_code":404,"type":"invalid_request_error","code":"not_found","message":"Nope."}"#,
        ));
        match not_found.unwrap_err() {
            AttioError::Status { status: 404, body } => {
                assert_eq!(body.code.as_deref(), Some("not_found"));
                assert_eq!(body.message.as_deref(), Some("Nope."));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(check_status(resp(502, "<html>")).unwrap_err(), AttioError::Status { status: 502, .. }));
    }
}
