//! Randomness, behind a trait so tests can pin it. [`OsRandom`] is `getrandom`: the OS on the
//! host, `crypto.getRandomValues` in workerd (getrandom's `js` feature).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the random source failed")]
pub struct RandomError;

pub trait Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError>;

    /// 32 random bytes (256 bits), base64url without padding: the form of every secret the
    /// gateway generates (state, codes, tokens, CSRF tokens). 256 mod 64 = 0, so the alphabet
    /// is unbiased.
    fn token(&self) -> Result<String, RandomError> {
        let mut bytes = [0u8; 32];
        self.fill(&mut bytes)?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::getrandom(buf).map_err(|_| RandomError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = OsRandom.token().unwrap();
        let b = OsRandom.token().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }
}
