//! [`SettingsSource`] over the Worker `Env`: vars and secrets by name, binding presence.

use worker::Env;

use crate::config::{SettingsSource, KV_BINDING, TRANSITIONS_BINDING};

pub struct EnvSettings<'a> {
    env: &'a Env,
}

impl<'a> EnvSettings<'a> {
    pub fn new(env: &'a Env) -> Self {
        Self { env }
    }
}

impl SettingsSource for EnvSettings<'_> {
    fn get(&self, name: &str) -> Option<String> {
        // Vars and secrets are both plain strings on `env`.
        self.env
            .var(name)
            .map(|v| v.to_string())
            .or_else(|_| self.env.secret(name).map(|s| s.to_string()))
            .ok()
    }

    fn binding_present(&self, name: &str) -> bool {
        match name {
            KV_BINDING => self.env.kv(name).is_ok(),
            TRANSITIONS_BINDING => self.env.durable_object(name).is_ok(),
            _ => false,
        }
    }
}
