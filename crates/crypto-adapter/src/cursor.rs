//! Paging cursors sealed with HMAC-SHA256 under a key derived from `SECRET_KEY`: opaque to a
//! client, and any change to one (or one made up) is refused.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hexgate_ports::CursorSealer;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

const BLOCK: usize = 64;

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new().chain_update(pad(0x36)).chain_update(message).finalize();
    Sha256::new().chain_update(pad(0x5c)).chain_update(inner).finalize().into()
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub struct HmacCursorSealer {
    key: [u8; 32],
}

impl HmacCursorSealer {
    /// A key of its own for cursors, derived from the service secret (so a MAC made here is
    /// never valid as anything else the secret signs).
    #[must_use]
    pub fn new(secret: &SecretString) -> Self {
        Self { key: hmac(secret.expose_secret().as_bytes(), b"hexgate/paging-cursor/v1") }
    }
}

impl CursorSealer for HmacCursorSealer {
    fn seal(&self, payload: &str) -> String {
        let mac = hmac(&self.key, payload.as_bytes());
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(mac))
    }

    fn open(&self, cursor: &str) -> Option<String> {
        if cursor.len() > 1024 {
            return None;
        }
        let (payload, mac) = cursor.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        if !same(&hmac(&self.key, &payload), &mac) {
            return None;
        }
        String::from_utf8(payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_2() {
        let mac = hmac(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn a_sealed_cursor_opens_and_a_changed_or_foreign_one_does_not() {
        let sealer = HmacCursorSealer::new(&SecretString::from("k".repeat(32)));
        let other = HmacCursorSealer::new(&SecretString::from("j".repeat(32)));
        let cursor = sealer.seal("v1|all|x|1|id");
        assert_eq!(sealer.open(&cursor).as_deref(), Some("v1|all|x|1|id"));
        assert_eq!(other.open(&cursor), None);
        let (payload, mac) = cursor.split_once('.').expect("two parts");
        let forged = format!("{}.{mac}", URL_SAFE_NO_PAD.encode("v1|all|x|2|id"));
        assert_eq!(sealer.open(&forged), None);
        assert_eq!(sealer.open(payload), None);
        assert_eq!(sealer.open("not a cursor"), None);
    }
}
