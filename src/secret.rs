//! Secret values: newtypes whose `Debug` is redacted, with no `Display`, compared in constant
//! time, and reachable only through an explicit `expose_secret()`.
//!
//! Everything sensitive the gateway handles (Attio client secret and tokens, key material, the
//! tokens and codes it issues) is one of these, so a stray `{:?}` in a log or an error message
//! cannot leak it.

use subtle::ConstantTimeEq;

/// Declares a secret newtype over `String` or a byte array.
macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident($inner:ty)) => {
        $(#[$meta])*
        #[derive(Clone)]
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
    ClientSecret(String)
);
secret_type!(
    /// 32 bytes of key material from a Worker secret.
    KeyMaterial([u8; 32])
);
secret_type!(
    /// An Attio access token.
    AttioAccessToken(String)
);
secret_type!(
    /// An Attio refresh token (expiring-token style only).
    AttioRefreshToken(String)
);
secret_type!(
    /// An access or refresh token the gateway issues (`agwa.…`, `agwr.…`): handed to the client
    /// once, stored only as a keyed hash.
    IssuedToken(String)
);

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
    fn equality() {
        assert_eq!(ClientSecret::new("a".into()), ClientSecret::new("a".into()));
        assert_ne!(ClientSecret::new("a".into()), ClientSecret::new("b".into()));
        assert_ne!(ClientSecret::new("a".into()), ClientSecret::new("aa".into()));
    }
}
