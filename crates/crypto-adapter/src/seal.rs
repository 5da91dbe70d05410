//! Sealing secrets at rest: ChaCha20-Poly1305 under a key derived from `SECRET_KEY` by
//! HKDF-SHA256, with a fresh random nonce per sealed value and the value's name (a key id) bound
//! in as associated data, so a sealed value copied onto another row does not open.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

/// The layout of a sealed value: `VERSION || nonce (12) || ciphertext+tag`.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

/// Seals and opens secrets for one purpose (`info`), keyed from one secret.
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the system's random source failed")]
    Random,
    #[error("the sealed value does not open with this key")]
    Open,
}

impl Sealer {
    /// A sealer keyed by HKDF-SHA256 of `secret` for `purpose` (each purpose gets its own key).
    #[must_use]
    pub fn new(secret: &[u8], purpose: &str) -> Self {
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 255 × 32: expand cannot fail.
        Hkdf::<Sha256>::new(Some(b"hexgate/seal/v1"), secret)
            .expand(purpose.as_bytes(), &mut key)
            .unwrap_or_else(|_| unreachable!("32 bytes is a valid HKDF-SHA256 output length"));
        let cipher = ChaCha20Poly1305::new(&Key::from(key));
        Self { cipher }
    }

    /// Seals `plaintext` bound to `name`.
    ///
    /// # Errors
    /// [`SealError::Random`] when no nonce can be drawn.
    pub fn seal(&self, name: &str, plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::Random)?;
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: name.as_bytes() })
            .map_err(|_| SealError::Random)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a value sealed for `name`.
    ///
    /// # Errors
    /// [`SealError::Open`] for another key, another name, or damaged bytes.
    pub fn open(&self, name: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        let Some((&VERSION, rest)) = sealed.split_first() else { return Err(SealError::Open) };
        if rest.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealError::Open)?;
        self.cipher
            .decrypt(&Nonce::from(nonce), Payload { msg: ciphertext, aad: name.as_bytes() })
            .map_err(|_| SealError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_name() {
        let sealer = Sealer::new(b"a-secret-key-of-at-least-32-bytes!!", "signing-keys");
        let sealed = sealer.seal("kid-1", b"private").expect("seal");
        assert!(!sealed.windows(7).any(|w| w == b"private"), "no plaintext in the sealed bytes");
        assert_eq!(sealer.open("kid-1", &sealed).expect("open"), b"private");
        assert_eq!(sealer.open("kid-2", &sealed), Err(SealError::Open), "bound to its name");
        let other = Sealer::new(b"another-secret-key-of-32-bytes!!!!", "signing-keys");
        assert_eq!(other.open("kid-1", &sealed), Err(SealError::Open), "another SECRET_KEY");
        let other_purpose = Sealer::new(b"a-secret-key-of-at-least-32-bytes!!", "totp");
        assert_eq!(other_purpose.open("kid-1", &sealed), Err(SealError::Open), "another purpose");
        let mut damaged = sealed.clone();
        *damaged.last_mut().expect("bytes") ^= 1;
        assert_eq!(sealer.open("kid-1", &damaged), Err(SealError::Open));
        assert_eq!(sealer.open("kid-1", &[]), Err(SealError::Open));
        assert_ne!(sealer.seal("kid-1", b"private").expect("seal"), sealed, "a fresh nonce each time");
    }
}
