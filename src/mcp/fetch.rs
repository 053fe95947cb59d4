//! One tool request to Attio ([`Call`]) and what can go wrong with it, as values a tool result can explain:
//! the connected member filled in where the request acts as them, the answer parsed, Attio's
//! failures kept apart (rate limit with its wait, the token refused, an Attio error with its
//! code, Attio unreachable, an answer cut off).

use http::header::RETRY_AFTER;
use http::Method;
use serde_json::{json, Value};

use crate::attio::{check_status, retry_after_secs, AttioApi, AttioError};
use crate::base::secret::AttioAccessToken;
use crate::platform::Platform;

/// One Attio request a tool makes.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub method: Method,
    /// The Attio path as Attio documents it (`/v2/...?query`), already checked by
    /// [`crate::control::proxy_policy::upstream_path`]; [`crate::attio::AttioApi`] puts it under the API base.
    pub path: String,
    pub body: Option<Value>,
    /// Where the connected member goes in the body: the tool cannot know who that is.
    pub as_member: Option<AsMember>,
}

impl Call {
    /// A request for `path` with `query`, the path checked by [`crate::control::proxy_policy::upstream_path`]
    /// (it may hold segments from a tool's arguments).
    pub fn new<K: AsRef<str>, V: AsRef<str>>(
        method: Method,
        path: &str,
        query: &[(K, V)],
        body: Option<Value>,
    ) -> Result<Call, String> {
        let q = (!query.is_empty())
            .then(|| url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish());
        let path = crate::control::proxy_policy::upstream_path(path, q.as_deref()).map_err(|e| e.to_string())?;
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
    /// Owner mode: a comment needs an Attio member as its author, and the approver is none
    /// (the approver's email, when the gate knew one).
    NoAuthor(Option<String>),
}

/// Who a tool's requests act as, where a request names someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Acting<'a> {
    /// The connected workspace member (their id).
    Member(&'a str),
    /// Owner mode: the whole workspace, through its key. Nobody is a member by virtue of the
    /// gate, so searches run as the workspace and a comment's author is the member whose email
    /// is the approver's (their Cloudflare Access login), looked up when a comment is written.
    Workspace { approver_email: Option<&'a str> },
}

/// Sends tool requests with one person's Attio token, as that person's workspace member (or,
/// in owner mode, as the workspace).
pub struct Fetcher<'a, P> {
    pub platform: &'a P,
    pub api: AttioApi,
    pub token: &'a AttioAccessToken,
    pub acting: Acting<'a>,
}

impl<P> std::fmt::Debug for Fetcher<'_, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetcher").field("acting", &self.acting).finish_non_exhaustive()
    }
}

impl<P: Platform> Fetcher<'_, P> {
    pub async fn get(&self, call: &Call) -> Result<Value, Failure> {
        let mut body = call.body.clone();
        if let (Some(slot), Some(b)) = (call.as_member, body.as_mut()) {
            match (slot, self.acting) {
                // Search as the connected member, so an agent sees only what the person would see.
                (AsMember::RequestAs, Acting::Member(id)) => {
                    b["request_as"] = json!({"type": "workspace-member", "workspace_member_id": id})
                }
                (AsMember::RequestAs, Acting::Workspace { .. }) => b["request_as"] = json!({"type": "workspace"}),
                (AsMember::Author, Acting::Member(id)) => {
                    b["data"]["author"] = json!({"type": "workspace-member", "id": id})
                }
                (AsMember::Author, Acting::Workspace { approver_email }) => {
                    let id = self.member_by_email(approver_email).await?;
                    b["data"]["author"] = json!({"type": "workspace-member", "id": id})
                }
            }
        }
        self.send(call, body).await
    }

    /// Owner mode's comment author: the workspace member whose email is the approver's.
    async fn member_by_email(&self, email: Option<&str>) -> Result<String, Failure> {
        let Some(email) = email else { return Err(Failure::NoAuthor(None)) };
        let members = self.send(&Call::get("/v2/workspace_members".into()), None).await?;
        members["data"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["email_address"].as_str().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            .and_then(|m| m["id"]["workspace_member_id"].as_str())
            .map(str::to_string)
            .ok_or_else(|| Failure::NoAuthor(Some(email.to_string())))
    }

    async fn send(&self, call: &Call, body: Option<Value>) -> Result<Value, Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, FakePlatform};

    fn comment() -> Call {
        let body = json!({"data": {"format": "plaintext", "content": "hi", "author": {}}});
        Call {
            as_member: Some(AsMember::Author),
            ..Call::new(Method::POST, "/v2/comments", &[] as &[(&str, &str)], Some(body)).unwrap()
        }
    }

    fn sent_body(p: &FakePlatform) -> Value {
        serde_json::from_slice(p.http.sent.borrow().last().unwrap().body()).unwrap()
    }

    /// Owner mode (issue 24, finding 5): no member id made up from a hash; the workspace
    /// searches, and a comment is written by the member whose email is the approver's.
    #[test]
    fn owner_mode_searches_as_the_workspace_and_comments_as_the_approvers_member() {
        let p = FakePlatform::default();
        let token = AttioAccessToken::new("k".into());
        let api = AttioApi::new("http://127.0.0.1:9".parse().unwrap());
        let f = Fetcher {
            platform: &p,
            api,
            token: &token,
            acting: Acting::Workspace { approver_email: Some("Ada@Acme.example") },
        };
        let search = Call {
            as_member: Some(AsMember::RequestAs),
            ..Call::new(Method::POST, "/v2/objects/records/search", &[] as &[(&str, &str)], Some(json!({"query": "x"})))
                .unwrap()
        };
        p.http.push(200, r#"{"data":[]}"#);
        block_on(f.get(&search)).unwrap();
        assert_eq!(sent_body(&p)["request_as"], json!({"type": "workspace"}));
        p.http.push(200, r#"{"data":[{"id":{"workspace_member_id":"m-1"},"email_address":"bob@acme.example"},{"id":{"workspace_member_id":"m-2"},"email_address":"ada@acme.example"}]}"#);
        p.http.push(200, r#"{"data":{}}"#);
        block_on(f.get(&comment())).unwrap();
        assert_eq!(sent_body(&p)["data"]["author"], json!({"type": "workspace-member", "id": "m-2"}));
        // An approver who is no member: refused before anything is written.
        let f = Fetcher { acting: Acting::Workspace { approver_email: Some("eve@else.example") }, ..f };
        p.http.push(200, r#"{"data":[{"id":{"workspace_member_id":"m-1"},"email_address":"bob@acme.example"}]}"#);
        assert_eq!(block_on(f.get(&comment())), Err(Failure::NoAuthor(Some("eve@else.example".into()))));
        let f = Fetcher { acting: Acting::Workspace { approver_email: None }, ..f };
        let sent = p.http.sent.borrow().len();
        assert_eq!(block_on(f.get(&comment())), Err(Failure::NoAuthor(None)));
        assert_eq!(p.http.sent.borrow().len(), sent, "nothing asked of Attio");
    }
}
