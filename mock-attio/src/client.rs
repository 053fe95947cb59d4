//! A small blocking HTTP client for tests (the mock's own, and the gateway's end-to-end tests):
//! never follows redirects, never treats a status as an error, returns status, headers, body.

use serde_json::Value;

pub use ureq::http::HeaderMap;

/// What came back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON; panics with the body when it is not (tests want to see it).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Debug, Clone)]
pub struct TestClient {
    agent: ureq::Agent,
    pub base: String,
}

impl TestClient {
    pub fn new(base: impl Into<String>) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(std::time::Duration::from_secs(60)))
            // A fresh connection per request: a server may close a kept-alive connection right
            // after answering (as hyper may when a handler leaves the request body unread), and a
            // pooled one reused at that moment fails with "Peer disconnected".
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .build()
            .into();
        Self { agent, base: base.into() }
    }

    /// Any request: `headers` as given, `body` sent as is. Panics if no response comes back.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {}{path} failed: {e}", self.base))
    }

    /// Like [`Self::request`], but a connection failure is an `Err` (for readiness probes).
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Reply, String> {
        let url = format!("{}{path}", self.base);
        let mut builder = ureq::http::Request::builder().method(method).uri(&url);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let request = builder.body(body.map(<[u8]>::to_vec).unwrap_or_default()).map_err(|e| e.to_string())?;
        let mut resp = self.agent.run(request).map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.body_mut().read_to_string().unwrap_or_default();
        Ok(Reply { status, headers, body })
    }

    pub fn get(&self, path: &str, bearer: Option<&str>) -> Reply {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        self.request("GET", path, &headers, None)
    }

    pub fn delete(&self, path: &str, bearer: &str) -> Reply {
        self.request("DELETE", path, &[("authorization", &format!("Bearer {bearer}"))], None)
    }

    /// A JSON body with `method` (POST, PUT, PATCH).
    pub fn send_json(&self, method: &str, path: &str, bearer: Option<&str>, body: &Value) -> Reply {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let mut headers = vec![("content-type", "application/json")];
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        self.request(method, path, &headers, Some(body.to_string().as_bytes()))
    }

    /// A form-encoded POST.
    pub fn form(&self, path: &str, pairs: &[(&str, &str)]) -> Reply {
        let body = serde_urlencoded::to_string(pairs).unwrap_or_default();
        self.request("POST", path, &[("content-type", "application/x-www-form-urlencoded")], Some(body.as_bytes()))
    }

    /// A POST with only a bearer token.
    pub fn post_bearer(&self, path: &str, token: &str) -> Reply {
        self.request("POST", path, &[("authorization", &format!("Bearer {token}"))], Some(b""))
    }
}
