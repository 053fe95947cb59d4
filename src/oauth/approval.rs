//! An MCP client's authorization request (RFC 6749 §4.1.1, with RFC 7636 PKCE and RFC 8707
//! `resource`) once checked: what the consent page asks the person about, kept server-side
//! until the decision, and, once approved, what the code is issued for.

use serde::{Deserialize, Serialize};

use super::metadata::Audience;

/// An authorization request the person approved (or is asked about), kept server-side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approved {
    pub client_id: String,
    pub redirect_uri: String,
    #[serde(default)]
    pub state: Option<String>,
    pub code_challenge: String,
    pub audience: Audience,
    /// What the client asked for (at consent) or what was granted (once approved).
    pub scope: Vec<String>,
}
