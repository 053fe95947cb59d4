//! Secret values: newtypes whose `Debug` is redacted, with no `Display`, compared in constant
//! time, and reachable only through an explicit `expose_secret()`.
//!
//! Everything sensitive the gateway handles is one of these: the Attio app's secret and the
//! Attio tokens it vaults, key material, and every value it issues or receives that grants
//! access (authorization codes, access and refresh tokens, client secrets, session ids, the
//! `state` and PKCE verifier of a sign-in). A stray `{:?}` in a log or an error message cannot
//! leak one, and none is `Clone` unless a caller truly needs a second copy.

use subtle::ConstantTimeEq;

/// Declares a secret newtype over `String` or a byte array.
macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        pub struct $name($inner);

        impl $name {
            pub fn new(value: $inner) -> Self {
                Self(value)
            }

            /// # Security
            /// The raw value: never log it, put it in a URL, or return it in an error.
            pub fn expose_secret(&self) -> &$inner {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl PartialEq for $name {
            /// Constant-time in the length of the shorter value.
            fn eq(&self, other: &Self) -> bool {
                constant_time_eq(self.0.as_ref(), other.0.as_ref())
            }
        }

        impl Eq for $name {}
    };
}

secret_type!(
    /// The deployer's Attio OAuth app client secret.
    #[derive(Clone)] // configuration is shared by clones of `Config`
    ClientSecret(String)
);
secret_type!(
    /// 32 bytes of key material from a Worker secret.
    #[derive(Clone)] // key sets are built from configuration
    KeyMaterial([u8; 32])
);
secret_type!(
    /// An Attio access token.
    #[derive(Clone)] // a connection is copied between the vault, the refresh lease and a request
    AttioAccessToken(String)
);
secret_type!(
    /// An Attio refresh token (expiring-token style only).
    #[derive(Clone)] // a connection is copied between the vault, the refresh lease and a request
    AttioRefreshToken(String)
);
secret_type!(
    /// An access or refresh token the gateway issues (`agwa.…`, `agwr.…`): handed to the client
    /// once, stored only as a keyed hash.
    IssuedToken(String)
);

secret_type!(
    /// An authorization code the gateway issues (`agwc.…`): single use, ten minutes, stored only
    /// as a keyed hash.
    AuthorizationCode(String)
);
secret_type!(
    /// The `state` of a sign-in at Attio: single use, bound to the browser that started it.
    UpstreamState(String)
);
secret_type!(
    /// A PKCE code verifier (RFC 7636 §4.1): the one we send Attio, or the one a client sends us.
    PkceVerifier(String)
);
secret_type!(
    /// A client secret the gateway issues at registration (`agws.…`): shown once, stored only as
    /// a keyed hash.
    IssuedClientSecret(String)
);
secret_type!(
    /// The random id of a browser session (inside the signed session cookie).
    SessionId(String)
);

// The session id travels inside the signed session cookie, so it (de)serialises as a string.
impl serde::Serialize for SessionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for SessionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Self)
    }
}

/// Compares two byte strings without an early exit on the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = ClientSecret::new("hunter2".into());
        assert_eq!(format!("{s:?}"), "ClientSecret([redacted])");
        let k = KeyMaterial::new([7; 32]);
        assert_eq!(format!("{k:?}"), "KeyMaterial([redacted])");
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }

    #[test]
    fn every_issued_or_received_credential_is_redacted() {
        let shown = format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            AuthorizationCode::new("agwc.code-value".into()),
            UpstreamState::new("state-value".into()),
            PkceVerifier::new("verifier-value".into()),
            IssuedClientSecret::new("agws.secret-value".into()),
            SessionId::new("sid-value".into()),
            IssuedToken::new("agwa.token-value".into()),
        );
        assert!(!shown.contains("value"), "{shown}");
        assert_eq!(serde_json::to_string(&SessionId::new("s".into())).unwrap(), "\"s\"");
    }

    #[test]
    fn equality() {
        assert_eq!(ClientSecret::new("a".into()), ClientSecret::new("a".into()));
        assert_ne!(ClientSecret::new("a".into()), ClientSecret::new("b".into()));
        assert_ne!(ClientSecret::new("a".into()), ClientSecret::new("aa".into()));
    }
}
