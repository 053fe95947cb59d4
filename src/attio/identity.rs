//! `GET /v2/self` ("Identify"): which workspace and member a token belongs to.
//!
//! The answer is the bare introspection object (not wrapped in `data`); a revoked or unknown
//! token gets HTTP 200 with `{"active": false}`, so callers must check `active`, not just the
//! status (`shared/reference/attio-api.md` §1.3–1.4).

use http::Method;

use super::{AttioApi, AttioError};
use crate::base::http::HttpClient;
use crate::base::secret::AttioAccessToken;

/// Who an active Attio token belongs to: "the user" everywhere downstream.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub workspace_id: String,
    pub workspace_name: String,
    pub workspace_slug: String,
    pub authorized_by_workspace_member_id: String,
    /// Space-separated granted scopes.
    pub scope: String,
    pub client_id: String,
    /// Epoch seconds; `None` means the token does not expire.
    pub exp: Option<i64>,
}

/// What `/v2/self` said about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenStatus {
    Active(Identity),
    Inactive,
}

#[derive(serde::Deserialize)]
struct SelfBody {
    active: bool,
    #[serde(flatten)]
    rest: serde_json::Value,
}

/// Parses a `/v2/self` body.
pub fn parse_self(body: &[u8]) -> Result<TokenStatus, AttioError> {
    let parsed: SelfBody = serde_json::from_slice(body).map_err(|e| AttioError::Decode(e.to_string()))?;
    if !parsed.active {
        return Ok(TokenStatus::Inactive);
    }
    let identity: Identity = serde_json::from_value(parsed.rest).map_err(|e| AttioError::Decode(e.to_string()))?;
    Ok(TokenStatus::Active(identity))
}

impl AttioApi {
    /// Asks Attio who `token` belongs to.
    pub async fn identify(&self, http: &impl HttpClient, token: &AttioAccessToken) -> Result<TokenStatus, AttioError> {
        let body = self.send(http, self.request(Method::GET, "/v2/self", token, None)).await?;
        parse_self(&body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_active_and_inactive() {
        let active = br#"{"active":true,"scope":"record_permission:read object_configuration:read",
            "client_id":"c","token_type":"Bearer","exp":null,"iat":1735689600,
            "sub":"14beef7a-99f7-4534-a87e-70b564330a4c","aud":"c","iss":"attio.com",
            "authorized_by_workspace_member_id":"50cf242c-7fa3-4cad-87d0-75b1af71c57b",
            "workspace_id":"14beef7a-99f7-4534-a87e-70b564330a4c","workspace_name":"Acme",
            "workspace_slug":"acme","workspace_logo_url":null}"#;
        match parse_self(active).unwrap() {
            TokenStatus::Active(id) => {
                assert_eq!(id.workspace_slug, "acme");
                assert_eq!(id.authorized_by_workspace_member_id, "50cf242c-7fa3-4cad-87d0-75b1af71c57b");
                assert_eq!(id.exp, None);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(parse_self(br#"{"active":false}"#).unwrap(), TokenStatus::Inactive);
        assert!(matches!(parse_self(br#"{"active":true}"#), Err(AttioError::Decode(_))));
        assert!(matches!(parse_self(b"<html>"), Err(AttioError::Decode(_))));
    }
}
