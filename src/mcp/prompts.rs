//! Workflows as MCP prompts (MCP 2025-06-18 §prompts; clients offer them as slash commands):
//! an account brief, meeting prep and logging a call. A prompt's message names the record the
//! person chose and the tools to use, in order, so any model runs the workflow the same way.
//! `completion/complete` (§completion) suggests its arguments: record names through Attio's
//! search and object slugs ([`Suggest`]; the lookups run in `call.rs`). Pure.

use serde_json::{json, Value};

/// What `completion/complete` suggests for an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suggest {
    /// Record names matching what was typed (Attio's record search), in `objects` (default:
    /// companies, people and deals).
    Record,
    /// Object slugs starting with what was typed.
    Object,
    Nothing,
}

struct Arg {
    name: &'static str,
    description: &'static str,
    required: bool,
    suggest: Suggest,
}

/// The value of a prompt argument by name, when given.
type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

pub struct Prompt {
    pub name: &'static str,
    title: &'static str,
    description: &'static str,
    /// It asks the agent to change data (hidden from read-only grants).
    pub write: bool,
    arguments: &'static [Arg],
    text: fn(Lookup<'_>) -> String,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

const RECORD: Arg = Arg {
    name: "record",
    description: "The company, person or deal, by name.",
    required: true,
    suggest: Suggest::Record,
};

static PROMPTS: &[Prompt] = &[
    Prompt {
        name: "account_brief",
        title: "Account brief",
        description: "A record at a glance: details, open deals, latest notes, open tasks, recent meetings.",
        write: false,
        arguments: &[
            RECORD,
            Arg {
                name: "object",
                description: "Its object slug, if known.",
                required: false,
                suggest: Suggest::Object,
            },
        ],
        text: |a| {
            let record = a("record").unwrap_or_default();
            let within = a("object").map(|o| format!(" in {o}")).unwrap_or_default();
            format!(
                "Give me a brief on {record}. Find it with search_records{within}, then use get_record for its key \
                 details, list_record_entries for its deals and pipelines, and record_activity for its latest notes, \
                 open tasks and recent meetings (if it says older items exist, pass an earlier since). Answer in short \
                 sections: key details, open deals, latest notes, open tasks, recent meetings."
            )
        },
    },
    Prompt {
        name: "meeting_prep",
        title: "Meeting prep",
        description: "The next meeting with a record: who takes part, latest notes, open tasks.",
        write: false,
        arguments: &[RECORD],
        text: |a| {
            let record = a("record").unwrap_or_default();
            format!(
                "Prepare me for my next meeting with {record}. Find the record with search_records, then its next \
                 meeting with list_meetings (linked to the record, ends_from now, limit 1): when, and who takes part. \
                 Add the latest notes (list_notes on the record) and its open tasks (list_tasks linked to it, \
                 is_completed false). Say so if no meeting is scheduled."
            )
        },
    },
    Prompt {
        name: "log_a_call",
        title: "Log a call",
        description: "A call's note on a record, and a follow-up task.",
        write: true,
        arguments: &[
            RECORD,
            Arg {
                name: "summary",
                description: "What was said and agreed.",
                required: true,
                suggest: Suggest::Nothing,
            },
            Arg {
                name: "follow_up",
                description: "The next step, as a task.",
                required: false,
                suggest: Suggest::Nothing,
            },
        ],
        text: |a| {
            let record = a("record").unwrap_or_default();
            let summary = a("summary").unwrap_or_default();
            let task = match a("follow_up") {
                Some(f) => format!(
                    " Then create_task \"{f}\" linked to the record, assigned to me (whoami gives my id), due in a week."
                ),
                None => String::new(),
            };
            format!(
                "Log a call with {record}. Find the record with search_records, then create_note on it titled \
                 \"Call with {record}\" with this summary:\n\n{summary}\n\n{task}"
            )
            .trim_end()
            .to_string()
        },
    },
];

/// The `prompts/list` result: the prompts this grant may run.
pub fn list(can_write: bool) -> Value {
    let prompts: Vec<Value> = PROMPTS
        .iter()
        .filter(|p| can_write || !p.write)
        .map(|p| {
            let args: Vec<Value> = p
                .arguments
                .iter()
                .map(|a| json!({"name": a.name, "description": a.description, "required": a.required}))
                .collect();
            json!({"name": p.name, "title": p.title, "description": p.description, "arguments": args})
        })
        .collect();
    json!({ "prompts": prompts })
}

pub fn find(name: &str) -> Option<&'static Prompt> {
    PROMPTS.iter().find(|p| p.name == name)
}

/// The `prompts/get` result for `arguments` (string values), or why not.
pub fn get(prompt: &Prompt, arguments: &Value) -> Result<Value, String> {
    let value = |name: &str| {
        arguments.get(name).and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string)
    };
    if let Some(unknown) = arguments
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| !prompt.arguments.iter().any(|a| a.name == k.as_str()))
    {
        return Err(format!("{} takes no argument {unknown:?}", prompt.name));
    }
    if let Some(missing) = prompt.arguments.iter().find(|a| a.required && value(a.name).is_none()) {
        return Err(format!("{} needs {}: {}", prompt.name, missing.name, missing.description));
    }
    let text = (prompt.text)(&value);
    Ok(json!({
        "description": prompt.description,
        "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
    }))
}

/// What to suggest for `argument` of `prompt`.
pub fn suggest(prompt: &Prompt, argument: &str) -> Suggest {
    prompt.arguments.iter().find(|a| a.name == argument).map_or(Suggest::Nothing, |a| a.suggest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_names_the_record_and_the_tools_and_says_what_is_missing() {
        let brief = get(find("account_brief").unwrap(), &json!({"record": "Initech", "object": "companies"})).unwrap();
        let text = brief["messages"][0]["content"]["text"].as_str().unwrap();
        assert!(text.contains("brief on Initech") && text.contains("search_records in companies"), "{text}");
        let log = find("log_a_call").unwrap();
        assert_eq!(
            get(log, &json!({"record": "Initech"})).unwrap_err(),
            "log_a_call needs summary: What was said and agreed."
        );
        assert!(get(log, &json!({"record": "x", "summary": "y", "when": "z"})).unwrap_err().contains("\"when\""));
        let text = get(log, &json!({"record": "Initech", "summary": "Agreed."})).unwrap()["messages"][0]["content"]
            ["text"]
            .to_string();
        assert!(!text.contains("create_task"), "no follow-up asked for: {text}");
        assert_eq!(list(false)["prompts"].as_array().unwrap().len(), 2, "log_a_call writes");
        assert_eq!(suggest(log, "record"), Suggest::Record);
        assert_eq!(suggest(find("account_brief").unwrap(), "object"), Suggest::Object);
    }
}
