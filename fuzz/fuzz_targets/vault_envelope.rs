//! The vault envelope: arbitrary text never opens (and never panics), and what is sealed opens
//! to itself only with the same associated data.
#![no_main]

use attio_gateway::crypto::envelope::VaultKeys;
use attio_gateway::crypto::envelope::Vault;
use attio_gateway::base::random::{Random, RandomError};
use attio_gateway::base::secret::KeyMaterial;
use libfuzzer_sys::fuzz_target;

struct Counter;

impl Random for Counter {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        for (i, b) in buf.iter_mut().enumerate() {
            *b = i as u8;
        }
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let vault = Vault::new(&VaultKeys::from_entries(vec![("k1".into(), KeyMaterial::new([7; 32]))]));
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(vault.open(b"aad", text).is_err(), "garbage opened");
    }
    let sealed = vault.seal(b"record|field", data, &Counter).expect("seal");
    assert_eq!(vault.open(b"record|field", &sealed).expect("open").plaintext, data);
    assert!(vault.open(b"record|other", &sealed).is_err(), "opened with other associated data");
});
