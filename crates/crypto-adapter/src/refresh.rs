use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hexgate_ports::{RefreshSecret, TokenHash};
use secrecy::SecretString;
use sha2::{Digest, Sha256};

/// 32 random bytes, URL-safe: unguessable, so a fast hash (SHA-256) is enough to store it.
pub(crate) fn new_secret() -> RefreshSecret {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random number generator is available");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    RefreshSecret { token: SecretString::from(token), hash }
}

pub(crate) fn hash(token: &str) -> TokenHash {
    let digest = Sha256::digest(token.as_bytes());
    TokenHash(digest.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_secret_hashes_to_its_stored_hash_and_secrets_are_unique() {
        let a = new_secret();
        let b = new_secret();
        assert_eq!(hash(a.token.expose_secret()), a.hash);
        assert_ne!(a.token.expose_secret(), b.token.expose_secret());
        assert_eq!(a.hash.0.len(), 64);
    }
}
