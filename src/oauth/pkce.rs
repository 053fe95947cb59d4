//! PKCE (RFC 7636), S256 only: `plain`, a missing method and unknown methods are refused
//! (OAuth 2.1 §4.1.2.1; security checklist B.11–13).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::base::secret::{constant_time_eq, PkceVerifier};

fn unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// A `code_challenge` with `code_challenge_method=S256`: exactly 43 base64url characters.
pub fn valid_challenge(challenge: &str, method: Option<&str>) -> Result<(), &'static str> {
    match method {
        Some("S256") => {}
        Some("plain") => return Err("code_challenge_method plain is not allowed; use S256"),
        None => return Err("code_challenge_method is required and must be S256"),
        Some(_) => return Err("unsupported code_challenge_method; use S256"),
    }
    let ok = challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("code_challenge must be 43 base64url characters (S256)")
    }
}

/// Whether `verifier` (43–128 unreserved characters, RFC 7636 §4.1) hashes to `challenge`.
pub fn verify(verifier: &PkceVerifier, challenge: &str) -> bool {
    let verifier = verifier.expose_secret();
    let syntax = (43..=128).contains(&verifier.len()) && verifier.bytes().all(unreserved);
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    // Hash first, then compare in constant time, whatever the syntax said.
    constant_time_eq(computed.as_bytes(), challenge.as_bytes()) && syntax
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verify(verifier: &str, challenge: &str) -> bool {
        super::verify(&PkceVerifier::new(verifier.to_string()), challenge)
    }

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc7636_appendix_b() {
        assert!(verify(VERIFIER, CHALLENGE));
        assert!(!verify("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX", CHALLENGE));
    }

    #[test]
    fn only_s256_with_a_well_formed_challenge() {
        assert!(valid_challenge(CHALLENGE, Some("S256")).is_ok());
        assert!(valid_challenge(CHALLENGE, Some("plain")).is_err());
        assert!(valid_challenge(CHALLENGE, None).is_err(), "a missing method would mean plain");
        assert!(valid_challenge(CHALLENGE, Some("S512")).is_err());
        assert!(valid_challenge(&format!("{CHALLENGE}="), Some("S256")).is_err(), "padded");
        assert!(valid_challenge(&CHALLENGE[..42], Some("S256")).is_err());
        assert!(valid_challenge(&CHALLENGE.replace('M', "+"), Some("S256")).is_err());
    }

    #[test]
    fn verifier_syntax_is_enforced() {
        let short = "a".repeat(42);
        let long = "a".repeat(129);
        for v in [short.as_str(), long.as_str(), "bad verifier with spaces and more than forty-three chars"] {
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
            assert!(!verify(v, &challenge), "{v}");
        }
        let ok = "a".repeat(43);
        assert!(verify(&ok, &URL_SAFE_NO_PAD.encode(Sha256::digest(ok.as_bytes()))));
    }
}
