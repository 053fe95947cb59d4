//! Stable, name-based ids (UUID v5), so seeded data and the select options and statuses of an
//! attribute have the same ids on every run. A leaf: the seed, the value typing and the REST
//! handlers all use it, and it uses nothing of the crate.

use uuid::Uuid;

/// A stable id derived from a name, so seeded data has the same ids on every run.
pub fn id(name: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, format!("mock-attio:{name}").as_bytes())
}

/// The id of a select option or status: stable, derived from its attribute and title (record
/// values and the options/statuses endpoints agree on it).
pub fn option_id(attribute: Uuid, title: &str) -> Uuid {
    id(&format!("attribute/{attribute}/option/{title}"))
}
