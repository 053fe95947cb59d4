//! The deploy configuration tells the truth: every setting and binding the code reads is
//! declared where Cloudflare (wrangler, the Deploy button) and people (README) look for it.
//! Host-only: reads files, starts nothing.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use attio_gateway::auth::rate_limit::Limit;
use attio_gateway::config::{Requirement, SettingKind, BINDINGS, SETTINGS};

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn every_setting_the_code_reads_is_declared_in_the_settings_list() {
    // The configuration module, whole: its settings list, its parsers and the validated config.
    let config = ["src/config/mod.rs", "src/config/settings.rs", "src/config/parse.rs"].map(read).join("\n");
    let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
    let bindings: Vec<&str> = BINDINGS.iter().map(|b| b.name).collect();
    // Every name constant in src/config/ is a declared setting or binding...
    for line in config.lines().filter(|l| l.starts_with("pub const ") && l.contains(": &str = \"")) {
        let value = line.split('"').nth(1).unwrap();
        if value.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            assert!(names.contains(&value) || bindings.contains(&value), "{value} is read but not declared");
        }
    }
    // ...and everything read through the settings source is one of them.
    for call in ["r.read(", "src.get("] {
        for rest in config.split(call).skip(1) {
            let name = rest.split([',', ')']).next().unwrap().trim();
            if !name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                continue; // the generic reader itself (`src.get(name)`)
            }
            let value = config
                .lines()
                .find(|l| l.starts_with(&format!("pub const {name}: &str")))
                .and_then(|l| l.split('"').nth(1))
                .unwrap_or_else(|| panic!("{call}{name}: not a declared constant"));
            assert!(names.contains(&value), "{value} read with {call} but not in SETTINGS");
        }
    }
    // The edge reads bindings only by these constants.
    let edge = read("src/edge/platform.rs");
    for access in ["env.kv(", "env.durable_object("] {
        for rest in edge.split(access).skip(1) {
            let arg = rest.split(')').next().unwrap().trim();
            assert!(arg == "name" || arg.ends_with("_BINDING"), "binding read by literal: {access}{arg}");
        }
    }
}

#[test]
fn every_setting_and_binding_is_documented_and_declared_for_deploys() {
    let readme = read("README.md");
    let example = read(".dev.vars.example");
    let wrangler = read("wrangler.toml");
    let package: serde_json::Value = serde_json::from_str(&read("package.json")).unwrap();
    let described = &package["cloudflare"]["bindings"];
    for s in SETTINGS {
        assert!(readme.contains(&format!("`{}`", s.name)), "{} is not in the README's settings table", s.name);
        assert!(example.contains(s.name), "{} is not in .dev.vars.example", s.name);
        if s.kind == SettingKind::Secret && matches!(s.required, Requirement::Required) {
            // The Deploy button asks for every uncommented line of .dev.vars.example, with the
            // description from package.json; the value must not be pre-filled.
            assert!(
                example.lines().any(|l| l == format!("{}=", s.name)),
                "{} must be an empty, uncommented line",
                s.name
            );
            assert!(described[s.name]["description"].as_str().is_some_and(|d| d.len() > 20), "{} undescribed", s.name);
        }
        if let Requirement::Default(value) = s.required {
            if s.name.ends_with("_BASE_URL") {
                assert!(wrangler.contains(&format!("{} = \"{value}\"", s.name)), "{} default not in [vars]", s.name);
            }
        }
    }
    // Nothing else is asked for at deploy: every uncommented line is a required secret.
    for line in example.lines().filter(|l| !l.starts_with('#') && l.contains('=')) {
        let name = line.split('=').next().unwrap();
        let spec = SETTINGS.iter().find(|s| s.name == name).unwrap();
        assert!(spec.kind == SettingKind::Secret && matches!(spec.required, Requirement::Required), "{name}");
    }
    for b in BINDINGS {
        let declared = wrangler.contains(&format!("binding = \"{}\"", b.name))
            || wrangler.contains(&format!("name = \"{}\"", b.name));
        assert!(declared, "{} is not declared in wrangler.toml", b.name);
        assert!(described[b.name]["description"].is_string(), "{} is not described in package.json", b.name);
    }
    // Bindings provision themselves: no placeholder ids.
    assert!(!wrangler.lines().any(|l| l.trim_start().starts_with("id = ")), "wrangler.toml carries a resource id");
    // The shipped rate limits are the ones the code documents (and its test double enforces).
    for limit in [Limit::Registration, Limit::Flows, Limit::TokenFailures, Limit::Lookups] {
        let block = wrangler.split("[[ratelimits]]").find(|b| b.contains(&format!("name = \"{}\"", limit.binding())));
        let block = block.unwrap_or_else(|| panic!("{} not in wrangler.toml", limit.binding()));
        let expected = format!("simple = {{ limit = {}, period = 60 }}", limit.default_per_minute());
        assert!(block.contains(&expected), "{}: wrangler.toml differs from {expected}", limit.binding());
    }
}
