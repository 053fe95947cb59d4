//! Who a person is: an Attio workspace member, as `/v2/self` reported when they connected.
//! Everything the gateway keeps for a person (their connection, grants, audit entries) is keyed
//! by this pair; where it is stored is [`crate::store::keys`]'s business.

use serde::{Deserialize, Serialize};

/// An Attio workspace member: the identity everything downstream is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId {
    pub workspace_id: String,
    pub member_id: String,
}

/// Attio ids are UUIDs; anything else is refused before it becomes part of a storage key.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl UserId {
    /// `None` unless both ids look like Attio ids (letters, digits and `-`, at most 64 bytes).
    pub fn new(workspace_id: &str, member_id: &str) -> Option<Self> {
        (valid_id(workspace_id) && valid_id(member_id))
            .then(|| Self { workspace_id: workspace_id.into(), member_id: member_id.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_attio_style_ids_are_accepted() {
        assert!(UserId::new("14beef7a-99f7", "50cf242c").is_some());
        for bad in ["", "a:b", "a/b", "../x", "a b", &"x".repeat(65)] {
            assert!(UserId::new(bad, "m").is_none(), "{bad}");
            assert!(UserId::new("w", bad).is_none(), "{bad}");
        }
    }
}
