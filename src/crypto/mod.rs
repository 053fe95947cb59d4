//! Cryptography, all RustCrypto (pure Rust: synchronous, and tested on the host like the rest
//! of the core).
//!
//! - [`envelope`]: the vault's AEAD envelope for Attio tokens (XChaCha20-Poly1305, HKDF keys,
//!   key ids for rotation).
//! - [`keys`]: purpose-bound keys derived from `SIGNING_KEY` (token hashing, cookie signing).
//!
//! Uses only `base`.

pub mod envelope;
pub mod keys;
pub mod password;
