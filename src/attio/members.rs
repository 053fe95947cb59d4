//! `GET /v2/workspace_members/{id}`: whether the person behind a connection is still an active
//! member of the workspace. Attio never deletes members; one who left is `suspended`
//! (`access_level`), and an unknown id is a 404 (`shared/reference/attio-api.md`, members).

use http::Method;

use super::{AttioApi, AttioError};
use crate::base::http::HttpClient;
use crate::base::secret::AttioAccessToken;

/// What Attio says about a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// `admin` or `member`.
    Active,
    /// Suspended, or no longer known to the workspace.
    Ended,
}

#[derive(serde::Deserialize)]
struct MemberBody {
    data: Member,
}

#[derive(serde::Deserialize)]
struct Member {
    access_level: String,
    #[serde(default)]
    email_address: Option<String>,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
}

/// Who a member is, as far as Attio says: for the administrators' pages and the allow list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    /// First and last name.
    pub name: Option<String>,
    /// Lower-cased.
    pub email: Option<String>,
}

/// Parses a member body.
pub fn parse_member(body: &[u8]) -> Result<Membership, AttioError> {
    let parsed: MemberBody = serde_json::from_slice(body).map_err(|e| AttioError::Decode(e.to_string()))?;
    Ok(if parsed.data.access_level == "suspended" { Membership::Ended } else { Membership::Active })
}

/// Whether a member body says `admin`.
pub fn parse_member_is_admin(body: &[u8]) -> Result<bool, AttioError> {
    let parsed: MemberBody = serde_json::from_slice(body).map_err(|e| AttioError::Decode(e.to_string()))?;
    Ok(parsed.data.access_level == "admin")
}

/// A member's name and email address (lower-cased), from a member body.
pub fn parse_member_profile(body: &[u8]) -> Result<Profile, AttioError> {
    let parsed: MemberBody = serde_json::from_slice(body).map_err(|e| AttioError::Decode(e.to_string()))?;
    let m = parsed.data;
    let name =
        [m.first_name, m.last_name].into_iter().flatten().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    let name = name.collect::<Vec<_>>().join(" ");
    Ok(Profile {
        name: Some(name).filter(|n| !n.is_empty()).map(|n| n.chars().take(100).collect()),
        email: m.email_address.map(|e| e.trim().to_ascii_lowercase()).filter(|e| !e.is_empty()),
    })
}

impl AttioApi {
    /// Whether `member_id` is an admin of the token's workspace (needs `user_management:read`).
    pub async fn member_is_admin(
        &self,
        http: &impl HttpClient,
        token: &AttioAccessToken,
        member_id: &str,
    ) -> Result<bool, AttioError> {
        let path = format!("/v2/workspace_members/{member_id}");
        parse_member_is_admin(&self.send(http, self.request(Method::GET, &path, token, None)).await?)
    }

    /// The name and email address of `member_id`, as Attio knows them (needs
    /// `user_management:read`).
    pub async fn member_profile(
        &self,
        http: &impl HttpClient,
        token: &AttioAccessToken,
        member_id: &str,
    ) -> Result<Profile, AttioError> {
        let path = format!("/v2/workspace_members/{member_id}");
        parse_member_profile(&self.send(http, self.request(Method::GET, &path, token, None)).await?)
    }

    /// Whether `member_id` is still an active member of the token's workspace. Any answer but
    /// a member body or a 404 (a missing scope, a rate limit, an outage) is an error: callers
    /// must not end anyone's access on it.
    pub async fn membership(
        &self,
        http: &impl HttpClient,
        token: &AttioAccessToken,
        member_id: &str,
    ) -> Result<Membership, AttioError> {
        let path = format!("/v2/workspace_members/{member_id}");
        match self.send(http, self.request(Method::GET, &path, token, None)).await {
            Ok(body) => parse_member(&body),
            Err(AttioError::Status { status: 404, .. }) => Ok(Membership::Ended),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suspended_members_have_ended() {
        assert_eq!(parse_member(br#"{"data":{"access_level":"admin"}}"#).unwrap(), Membership::Active);
        assert_eq!(parse_member(br#"{"data":{"access_level":"member"}}"#).unwrap(), Membership::Active);
        assert_eq!(parse_member(br#"{"data":{"access_level":"suspended"}}"#).unwrap(), Membership::Ended);
        assert!(parse_member(b"{}").is_err());
        let body = br#"{"data":{"access_level":"member","email_address":" Ada@Acme.example"}}"#;
        assert_eq!(parse_member_profile(body).unwrap(), Profile { name: None, email: Some("ada@acme.example".into()) });
        let body =
            br#"{"data":{"access_level":"member","first_name":"Ada","last_name":" Lovelace","email_address":null}}"#;
        assert_eq!(parse_member_profile(body).unwrap(), Profile { name: Some("Ada Lovelace".into()), email: None });
    }
}
