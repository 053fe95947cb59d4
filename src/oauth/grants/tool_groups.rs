//! Tool groups as OAuth scopes (RFC 6749 §3.3): besides read or read-write, a person may grant an
//! MCP client only some areas of Attio — records, lists, notes, tasks, meetings and calls,
//! comments — each the scope `attio:<group>`. A grant whose scope names no group has them all
//! (grants made before groups existed, and every approval that keeps them all), so its scope
//! stays `attio:read attio:write` as before; a grant that names some has only those. Groups
//! restrict the MCP tools; the REST proxy answers to read and write alone.

/// An area of Attio a grant may be limited to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Records,
    Lists,
    Notes,
    Tasks,
    Meetings,
    Comments,
}

pub const GROUPS: [Group; 6] =
    [Group::Records, Group::Lists, Group::Notes, Group::Tasks, Group::Meetings, Group::Comments];

impl Group {
    /// The group's name in scopes (`attio:<name>`) and forms.
    pub fn name(self) -> &'static str {
        match self {
            Group::Records => "records",
            Group::Lists => "lists",
            Group::Notes => "notes",
            Group::Tasks => "tasks",
            Group::Meetings => "meetings",
            Group::Comments => "comments",
        }
    }

    pub fn scope(self) -> &'static str {
        match self {
            Group::Records => "attio:records",
            Group::Lists => "attio:lists",
            Group::Notes => "attio:notes",
            Group::Tasks => "attio:tasks",
            Group::Meetings => "attio:meetings",
            Group::Comments => "attio:comments",
        }
    }

    /// What the group covers, for the consent page.
    pub fn label(self) -> &'static str {
        match self {
            Group::Records => "Records: companies, people, deals and custom objects",
            Group::Lists => "Lists and their entries (pipelines)",
            Group::Notes => "Notes",
            Group::Tasks => "Tasks",
            Group::Meetings => "Meetings, call recordings and transcripts",
            Group::Comments => "Comments",
        }
    }

    pub fn from_scope(scope: &str) -> Option<Group> {
        GROUPS.into_iter().find(|g| g.scope() == scope)
    }
}

/// The groups a grant's scope allows: those it names, or all when it names none.
pub fn granted(scope: &[String]) -> Vec<Group> {
    let named: Vec<Group> = scope.iter().filter_map(|s| Group::from_scope(s)).collect();
    if named.is_empty() {
        GROUPS.to_vec()
    } else {
        named
    }
}

/// The group scopes to write into a grant for `chosen` groups: none when all are chosen (the
/// grant then reads as before groups existed).
pub fn scopes_for(chosen: &[Group]) -> Vec<String> {
    if GROUPS.iter().all(|g| chosen.contains(g)) {
        return Vec::new();
    }
    GROUPS.iter().filter(|g| chosen.contains(g)).map(|g| g.scope().to_string()).collect()
}

/// A narrowed scope (refresh, token exchange) that names no group keeps the groups of the
/// scope it narrows: leaving groups out must never widen a grant to all of them.
pub fn narrowed(mut requested: Vec<String>, from: &[String]) -> Vec<String> {
    if !requested.iter().any(|s| Group::from_scope(s).is_some()) {
        requested.extend(from.iter().filter(|s| Group::from_scope(s).is_some()).cloned());
    }
    requested
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn no_group_named_means_all_and_narrowing_keeps_the_limits() {
        assert_eq!(granted(&s(&["attio:read"])), GROUPS.to_vec());
        assert_eq!(granted(&s(&["attio:read", "attio:notes"])), [Group::Notes]);
        assert!(scopes_for(&GROUPS).is_empty(), "all groups: the scope reads as before");
        assert_eq!(scopes_for(&[Group::Tasks, Group::Notes]), s(&["attio:notes", "attio:tasks"]));
        let limited = s(&["attio:read", "attio:write", "attio:notes"]);
        assert_eq!(narrowed(s(&["attio:read"]), &limited), s(&["attio:read", "attio:notes"]));
        assert_eq!(granted(&narrowed(s(&["attio:read"]), &limited)), [Group::Notes], "never widened");
        assert_eq!(narrowed(s(&["attio:read", "attio:notes"]), &limited), s(&["attio:read", "attio:notes"]));
    }
}
