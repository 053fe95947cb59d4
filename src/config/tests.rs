//! Settings read, validated and reported.

use super::*;
use crate::testing::{complete_settings as complete, MapSource, KEY_A};

#[test]
fn complete_settings_load_with_defaults() {
    let cfg = Config::load(&MapSource::new(complete())).unwrap();
    assert_eq!(cfg.attio_app_base.as_str(), "https://app.attio.com/");
    assert_eq!(cfg.attio_api_base.host_str(), Some("api.attio.com"));
    assert_eq!(cfg.vault_keys.active_id(), Some("k2"));
    assert_eq!(cfg.vault_keys.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["k2", "k1"]);
    assert!(cfg.test_mode.is_none());
}

#[test]
fn signing_key_takes_several_keys_newest_first() {
    let mut m = complete();
    let other = "AQECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
    m.insert(SIGNING_KEY, format!("{other}, {}", KEY_A));
    let cfg = Config::load(&MapSource::new(m.clone())).unwrap();
    assert_eq!(cfg.signing_keys.len(), 2);
    let newest_only = SigningKeys::new(&cfg.signing_keys[0]);
    assert_eq!(cfg.keys().token_hash("t"), newest_only.token_hash("t"), "the newest key hashes");
    m.insert(SIGNING_KEY, format!("{other},c2hvcnQ"));
    let text = Config::load(&MapSource::new(m)).unwrap_err().to_string();
    assert!(text.contains("SIGNING_KEY is malformed: key 2: the key must be 32 bytes"), "{text}");
    assert!(!text.contains(other), "{text}");
}

#[test]
fn missing_and_malformed_settings_are_named_never_shown() {
    let mut m = complete();
    m.remove(ATTIO_CLIENT_SECRET);
    m.insert(SIGNING_KEY, "c2hvcnQ".into()); // "short": 5 bytes
    m.insert(VAULT_KEYS, "k1:not-base64!!".into());
    let err = Config::load(&MapSource::new(m.clone())).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("ATTIO_CLIENT_SECRET is missing"), "{text}");
    assert!(text.contains("wrangler secret put ATTIO_CLIENT_SECRET"), "{text}");
    assert!(text.contains("SIGNING_KEY is malformed: the key must be 32 bytes, this one is 5 bytes"), "{text}");
    assert!(text.contains("VAULT_KEYS is malformed: entry 1"), "{text}");
    for secret in ["c2hvcnQ", "not-base64", "client-123"] {
        assert!(!text.contains(secret), "leaked {secret}: {text}");
    }
    let report = ConfigReport::inspect(&MapSource::new(m));
    let json = serde_json::to_string(&report.settings).unwrap();
    assert!(!json.contains("c2hvcnQ") && !json.contains("client-123"), "{json}");
    assert!(json.contains("https://app.attio.com"), "vars may be shown: {json}");
}

#[test]
fn base_urls_are_validated() {
    assert_eq!(parse_base_url("http://127.0.0.1:8790/").unwrap().as_str(), "http://127.0.0.1:8790/");
    assert_eq!(parse_base_url("https://proxy.example/attio/").unwrap().path(), "/attio");
    assert!(parse_base_url("http://api.attio.com").unwrap_err().contains("https"));
    for bad in ["api.attio.com", "ftp://x.test", "https://u:p@x.test", "https://x.test/?a=1", "https://x.test/#f"] {
        assert!(parse_base_url(bad).is_err(), "{bad}");
    }
}

#[test]
fn vault_keys_reject_duplicates_and_bad_ids() {
    assert!(parse_vault_keys(&format!("a:{KEY_A},a:{KEY_A}")).unwrap_err().contains("twice"));
    assert!(parse_vault_keys(&format!("bad id:{KEY_A}")).is_err());
    assert!(parse_vault_keys(KEY_A).is_err());
}

#[test]
fn test_mode_needs_loopback_attio() {
    let mut m = complete();
    m.insert(INSECURE_TEST_MODE, "1".into());
    let report = ConfigReport::inspect(&MapSource::new(m.clone()));
    assert!(report.config.unwrap().test_mode.is_none(), "inert against the real Attio");
    let status = report.settings.iter().find(|s| s.name == INSECURE_TEST_MODE).unwrap();
    assert_eq!(status.state, SettingState::Ignored);

    m.insert(ATTIO_APP_BASE_URL, "http://127.0.0.1:9".into());
    m.insert(ATTIO_API_BASE_URL, "http://localhost:9".into());
    assert!(Config::load(&MapSource::new(m)).unwrap().test_mode.is_some());
}

#[test]
fn optional_settings() {
    let cfg = Config::load(&MapSource::new(complete())).unwrap();
    assert!(!cfg.attio_use_pkce);
    assert_eq!(cfg.attio_timeout_ms, 15_000);
    assert!(cfg.allowed_workspaces.is_none() && cfg.public_origin.is_none());
    let mut m = complete();
    m.insert(ATTIO_USE_PKCE, "true".into());
    m.insert(ATTIO_ALLOWED_WORKSPACES, " acme, 14beef7a ,".into());
    m.insert(ATTIO_TIMEOUT_MS, "2500".into());
    m.insert(PUBLIC_ORIGIN, "https://gw.example.com".into());
    let cfg = Config::load(&MapSource::new(m.clone())).unwrap();
    assert!(cfg.attio_use_pkce);
    assert_eq!(cfg.allowed_workspaces.unwrap(), ["acme", "14beef7a"]);
    assert!(cfg.allowed_members.is_none());
    let mut members = complete();
    members.insert(ATTIO_ALLOWED_MEMBERS, " Ada@Acme.example , bob@acme.example".into());
    let listed = Config::load(&MapSource::new(members.clone())).unwrap();
    assert_eq!(listed.allowed_members.unwrap(), ["ada@acme.example", "bob@acme.example"]);
    members.insert(ATTIO_ALLOWED_MEMBERS, "ada".into());
    assert!(Config::load(&MapSource::new(members)).is_err(), "not an email");
    assert_eq!(cfg.attio_timeout_ms, 2500);
    assert_eq!(cfg.public_origin.unwrap().host_str(), Some("gw.example.com"));
    for (name, bad) in [
        (ATTIO_USE_PKCE, "yes"),
        (ATTIO_TIMEOUT_MS, "5"),
        (PUBLIC_ORIGIN, "https://gw.example.com/x"),
        (ATTIO_ALLOWED_WORKSPACES, ","),
    ] {
        let mut m = m.clone();
        m.insert(name, bad.into());
        let err = Config::load(&MapSource::new(m)).unwrap_err().to_string();
        assert!(err.contains(&format!("{name} is malformed")), "{err}");
    }
}

#[test]
fn every_setting_is_listed_once() {
    let mut names: Vec<_> = SETTINGS.iter().map(|s| s.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), SETTINGS.len());
}
