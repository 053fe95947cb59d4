//! The shape of `src/`, checked: the rules `docs/architecture.md` states, as a test that fails
//! the moment one is broken.
//!
//! 1. Only `src/store/` sends commands to the `Transitions` Durable Object: no other module
//!    names `transitions::Command` (the protocol itself, the platform trait that carries it, the
//!    edge that executes it and the test doubles excepted).
//! 2. Only `src/store/` reads or writes Workers KV: no other module calls a `kv_…` method of
//!    the platform (the trait itself excepted).
//! 3. A route file (`src/routes/*.rs`) never imports another route file: what two routes share
//!    lives in a core module.
//! 4. No two modules of the core import each other, directly or around a circle.
//! 5. Each folder of `src/` is a layer or a concern, and imports only what its layer may
//!    ([`FOLDER_RULES`], as each folder's module file says): `base` nothing of the crate,
//!    `crypto` and `transitions` only `base`, `store` nothing above the domain types it stores,
//!    `pages` no effects (no `platform`), no Attio calls and no routes; and nothing but the router
//!    (`app`) imports `routes`.
//!
//! Imports are read from the source text: `use crate::…` trees (braces expanded), paths written
//! inline (`crate::a::b`), and `super::…`; comments and `#[cfg(test)] mod` blocks are skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module path (`routes::connect`) and its source, for every file under `src/` but the edge
/// (wasm-only glue) and the test doubles.
fn modules() -> BTreeMap<String, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                if let Some(name) = module_name(&root, &path) {
                    out.insert(name, production_code(&std::fs::read_to_string(&path).expect("read file")));
                }
            }
        }
    }
    out
}

fn module_name(root: &Path, path: &Path) -> Option<String> {
    let rel = path.strip_prefix(root).ok()?.with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts.last().is_some_and(|p| p.ends_with("_tests") || p == "tests") {
        return None; // a module's tests kept in a file of their own
    }
    match parts.first().map(String::as_str) {
        None | Some("lib" | "edge" | "tests" | "testing") => None,
        _ => Some(parts.join("::")),
    }
}

/// The source without comments and without its `#[cfg(test)] mod …` block.
fn production_code(source: &str) -> String {
    let mut kept = Vec::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed == "#[cfg(test)]" && lines.peek().is_some_and(|next| next.trim_start().starts_with("mod ")) {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        kept.push(line.split(" // ").next().unwrap_or(line));
    }
    kept.join("\n")
}

/// Every path a `use` tree names, braces expanded: `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else { return vec![tree] };
    let (prefix, rest) = tree.split_at(open);
    let inner = &rest[1..rest.rfind('}').unwrap_or(rest.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items.into_iter().filter(|i| !i.is_empty()).flat_map(|i| expand(&format!("{prefix}{i}"))).collect()
}

/// The paths a module refers to, relative to the crate root (`crate::` and `super::` resolved).
fn references(module: &str, code: &str) -> Vec<String> {
    let parent: Vec<&str> = module.split("::").collect();
    let parent = parent[..parent.len() - 1].join("::");
    let resolve = |path: &str| -> Option<String> {
        if let Some(rest) = path.strip_prefix("crate::") {
            Some(rest.to_string())
        } else {
            path.strip_prefix("super::").map(|rest| {
                if parent.is_empty() {
                    rest.to_string()
                } else {
                    format!("{parent}::{rest}")
                }
            })
        }
    };
    let mut out = Vec::new();
    // `use` statements, whole (they may span lines).
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let is_statement =
            at == 0 || rest[..at].ends_with(|c: char| c.is_whitespace() || c == ';' || c == '{' || c == '}');
        let tail = &rest[at + 4..];
        let end = tail.find(';').unwrap_or(tail.len());
        if is_statement {
            out.extend(expand(&tail[..end]).iter().filter_map(|p| resolve(p)));
        }
        rest = &tail[end.min(tail.len())..];
    }
    // Paths written inline.
    for prefix in ["crate::", "super::"] {
        for (at, _) in code.match_indices(prefix) {
            let path: String =
                code[at..].chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            out.extend(resolve(path.trim_end_matches(':')));
        }
    }
    out
}

/// The module a crate-relative path lands in: its longest prefix that is a module.
fn owner<'m>(modules: &'m BTreeMap<String, String>, path: &str) -> Option<&'m str> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len()).rev().find_map(|n| modules.get_key_value(&parts[..n].join("::")).map(|(k, _)| k.as_str()))
}

fn graph(modules: &BTreeMap<String, String>) -> BTreeMap<String, BTreeSet<String>> {
    modules
        .iter()
        .map(|(name, code)| {
            let targets = references(name, code)
                .iter()
                .filter_map(|p| owner(modules, p))
                .filter(|t| *t != name && !name.starts_with(&format!("{t}::")))
                .map(str::to_string)
                .collect();
            (name.clone(), targets)
        })
        .collect()
}

/// The modules that sit on a circle of imports, each circle once.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Kosaraju's two passes: finish order, then the reversed graph.
    fn visit(n: &str, g: &BTreeMap<String, BTreeSet<String>>, seen: &mut BTreeSet<String>, order: &mut Vec<String>) {
        if !seen.insert(n.to_string()) {
            return;
        }
        for m in g.get(n).into_iter().flatten() {
            visit(m, g, seen, order);
        }
        order.push(n.to_string());
    }
    let mut reversed: BTreeMap<String, BTreeSet<String>> = graph.keys().map(|k| (k.clone(), BTreeSet::new())).collect();
    for (from, tos) in graph {
        for to in tos {
            reversed.entry(to.clone()).or_default().insert(from.clone());
        }
    }
    let (mut seen, mut order) = (BTreeSet::new(), Vec::new());
    for n in graph.keys() {
        visit(n, graph, &mut seen, &mut order);
    }
    let mut assigned = BTreeSet::new();
    let mut out = Vec::new();
    for n in order.iter().rev() {
        let mut component = Vec::new();
        visit(n, &reversed, &mut assigned, &mut component);
        if component.len() > 1 {
            component.sort();
            out.push(component);
        }
    }
    out
}

#[test]
fn only_the_store_sends_durable_object_commands() {
    // The commands' own module (and its executor) and the platform trait that carries them.
    let allowed = ["platform"];
    let offenders: Vec<String> = modules()
        .iter()
        .filter(|(name, _)| {
            !name.starts_with("store") && !name.starts_with("transitions") && !allowed.contains(&name.as_str())
        })
        .filter(|(name, code)| {
            references(name, code)
                .iter()
                .any(|p| p == "transitions::Command" || p.starts_with("transitions::Command::"))
        })
        .map(|(name, _)| name.clone())
        .collect();
    assert!(offenders.is_empty(), "transitions::Command named outside src/store/: {offenders:?}");
}

/// Whether the code calls a Workers KV method of the platform (`.kv_get(`, `.kv_put_detached(`, …).
fn calls_kv(code: &str) -> bool {
    code.match_indices(".kv_").any(|(at, _)| {
        let name: String = code[at + 1..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        code[at + 1 + name.len()..].starts_with('(')
    })
}

#[test]
fn only_the_store_touches_kv() {
    let offenders: Vec<String> = modules()
        .iter()
        .filter(|(name, _)| !name.starts_with("store") && name.as_str() != "platform")
        .filter(|(_, code)| calls_kv(code))
        .map(|(name, _)| name.clone())
        .collect();
    assert!(offenders.is_empty(), "Workers KV used outside src/store/: {offenders:?}");
}

#[test]
fn no_route_imports_another_route() {
    let modules = modules();
    let edges = graph(&modules);
    let mut offenders = Vec::new();
    for (from, tos) in &edges {
        if from.starts_with("routes::") {
            offenders.extend(tos.iter().filter(|t| t.starts_with("routes::")).map(|t| format!("{from} -> {t}")));
        }
    }
    assert!(offenders.is_empty(), "route files importing route files: {offenders:?}");
}

#[test]
fn no_modules_import_each_other_in_a_circle() {
    let found = cycles(&graph(&modules()));
    assert!(found.is_empty(), "modules on a circle of imports: {found:?}");
}

/// What each folder of `src/` may import, by first path segment (`auth`, `store`, …): `Only`
/// lists everything allowed besides the folder itself.
enum Rule {
    Only(&'static [&'static str]),
    Not(&'static [&'static str]),
}

const FOLDER_RULES: &[(&str, Rule)] = &[
    ("base", Rule::Only(&[])),
    ("crypto", Rule::Only(&["base"])),
    ("transitions", Rule::Only(&["base"])),
    ("store", Rule::Only(&["base", "config", "crypto", "platform", "transitions", "oauth", "control"])),
    ("pages", Rule::Only(&["base", "auth", "config", "control", "oauth", "store", "transitions"])),
    ("oauth", Rule::Not(&["routes", "app", "mcp"])),
    ("mcp", Rule::Not(&["routes", "app", "pages"])),
    ("auth", Rule::Not(&["routes", "app", "mcp"])),
    ("attio", Rule::Not(&["routes", "app", "mcp", "control"])),
    ("control", Rule::Not(&["routes", "app"])),
    ("config", Rule::Not(&["routes", "app", "store", "platform"])),
    ("platform", Rule::Not(&["routes", "app", "store"])),
];

/// Every import across folders that [`FOLDER_RULES`] forbids, and every import of `routes`
/// from outside the router.
fn folder_offences(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let folder = |m: &str| m.split("::").next().unwrap_or_default().to_string();
    let mut out = Vec::new();
    for (from, tos) in graph {
        let here = folder(from);
        for to in tos.iter().map(|t| folder(t)).filter(|t| *t != here) {
            let allowed = match FOLDER_RULES.iter().find(|(f, _)| *f == here).map(|(_, r)| r) {
                Some(Rule::Only(may)) => may.contains(&to.as_str()),
                Some(Rule::Not(never)) => !never.contains(&to.as_str()),
                None => true,
            };
            if !allowed || (to == "routes" && here != "app") {
                out.push(format!("{from} -> {to}"));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn each_folder_imports_only_what_its_layer_may() {
    let offences = folder_offences(&graph(&modules()));
    assert!(offences.is_empty(), "imports across layers that the folder rules forbid: {offences:?}");
}

/// The checker itself: each rule is seen when broken.
#[test]
fn the_checks_see_what_they_look_for() {
    assert_eq!(expand("crate::{a, b::{c, d}}"), ["crate::a", "crate::b::c", "crate::b::d"]);
    let code = production_code(
        "use crate::transitions::{Command, Outcome};\n// crate::ignored\n#[cfg(test)]\nmod tests {\n use crate::x;\n}",
    );
    let refs = references("routes::foo", &code);
    assert!(
        refs.contains(&"transitions::Command".to_string()) && !refs.iter().any(|r| r.contains("ignored") || r == "x")
    );
    assert!(calls_kv("p.kv_get(&key).await") && calls_kv("p\n    .kv_put_detached(k, v, None)"));
    assert!(!calls_kv("let kv_key = 1; x.kv_keys"));
    assert!(references("oauth::cimd", "use super::client::RegisteredClient;")
        .contains(&"oauth::client::RegisteredClient".into()));
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
        ("d".to_string(), BTreeSet::from(["a".to_string()])),
    ]
    .into();
    assert_eq!(cycles(&g), [vec!["a".to_string(), "b".into(), "c".into()]]);
    let layered: BTreeMap<String, BTreeSet<String>> = [
        ("base::time".to_string(), BTreeSet::from(["store::keys".to_string(), "base::uri".to_string()])),
        ("pages::usage".to_string(), BTreeSet::from(["platform".to_string()])),
        ("control::cron".to_string(), BTreeSet::from(["routes::health".to_string(), "store::sweep".to_string()])),
        ("app".to_string(), BTreeSet::from(["routes::health".to_string()])),
    ]
    .into();
    assert_eq!(
        folder_offences(&layered),
        ["base::time -> store", "control::cron -> routes", "pages::usage -> platform"]
    );
}
