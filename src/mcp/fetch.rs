//! One tool request to Attio ([`Call`]) and what can go wrong with it, as values a tool result can explain:
//! the connected member filled in where the request acts as them, the answer parsed, Attio's
//! failures kept apart (rate limit with its wait, the token refused, an Attio error with its
//! code, Attio unreachable, an answer cut off).

use http::header::RETRY_AFTER;
use http::Method;
use serde_json::{json, Value};

use crate::attio::{check_status, retry_after_secs, AttioApi, AttioError};
use crate::platform::Platform;
use crate::secret::AttioAccessToken;

/// One Attio request a tool makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: Method,
    /// The Attio path as Attio documents it (`/v2/...?query`), already checked by
    /// [`crate::proxy_policy::upstream_path`]; [`crate::attio::AttioApi`] puts it under the API base.
    pub path: String,
    pub body: Option<Value>,
    /// Where the connected member goes in the body: the tool cannot know who that is.
    pub as_member: Option<AsMember>,
}

impl Call {
    /// A request for `path` with `query`, the path checked by [`crate::proxy_policy::upstream_path`]
    /// (it may hold segments from a tool's arguments).
    pub fn new<K: AsRef<str>, V: AsRef<str>>(
        method: Method,
        path: &str,
        query: &[(K, V)],
        body: Option<Value>,
    ) -> Result<Call, String> {
        let q = (!query.is_empty())
            .then(|| url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish());
        let path = crate::proxy_policy::upstream_path(path, q.as_deref()).map_err(|e| e.to_string())?;
        Ok(Call { method, path, body, as_member: None })
    }

    /// A GET of a path the gateway builds from validated ids alone (`/v2/self`, a member).
    pub fn get(path: String) -> Call {
        Call { method: Method::GET, path, body: None, as_member: None }
    }
}

/// A place in a request body that names the connected workspace member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsMember {
    /// `request_as` of a search: see only what the person would see in Attio.
    RequestAs,
    /// `data.author` of a comment: comments are written by a member, never by the app.
    Author,
}

/// Why a request gave no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// 429: how many seconds Attio asked to wait, when it said.
    RateLimited(Option<u64>),
    /// 401: the token was refused.
    Unauthorized,
    /// Any other error status, with Attio's `code` and `message`.
    Status {
        status: u16,
        code: Option<String>,
        message: Option<String>,
    },
    Unreachable(String),
    /// A success whose body is not JSON (cut off, or not Attio).
    NotJson,
}

/// Sends tool requests with one person's Attio token, as that person's workspace member.
pub struct Fetcher<'a, P> {
    pub platform: &'a P,
    pub api: AttioApi,
    pub token: &'a AttioAccessToken,
    pub member_id: &'a str,
}

impl<P> std::fmt::Debug for Fetcher<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("member_id", &self.member_id).finish_non_exhaustive()
    }
}

impl<P: Platform> Fetcher<'_, P> {
    pub async fn get(&self, call: &Call) -> Result<Value, Failure> {
        let mut body = call.body.clone();
        if let (Some(slot), Some(b)) = (call.as_member, body.as_mut()) {
            match slot {
                // Search as the connected member, so an agent sees only what the person would see.
                AsMember::RequestAs => {
                    b["request_as"] = json!({"type": "workspace-member", "workspace_member_id": self.member_id})
                }
                AsMember::Author => b["data"]["author"] = json!({"type": "workspace-member", "id": self.member_id}),
            }
        }
        let body = body.map(|b| b.to_string().into_bytes());
        let request = self.api.request(call.method.clone(), &call.path, self.token, body);
        let response = self.platform.send(request).await.map_err(|e| Failure::Unreachable(e.to_string()))?;
        let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
        match check_status(response) {
            Ok(bytes) if bytes.is_empty() => Ok(json!({})),
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|_| Failure::NotJson),
            Err(AttioError::RateLimited { .. }) => {
                let now = self.platform.now_ms();
                Err(Failure::RateLimited(retry_after.as_deref().and_then(|v| retry_after_secs(v, now))))
            }
            Err(AttioError::Unauthorized) => Err(Failure::Unauthorized),
            Err(AttioError::Status { status, body }) => {
                Err(Failure::Status { status, code: body.code, message: body.message })
            }
            Err(e) => Err(Failure::Unreachable(e.to_string())),
        }
    }
}
