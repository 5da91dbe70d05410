//! Cryptography behind the ports: Argon2id password hashing on low-priority threads, access tokens
//! (EdDSA over stored, rotating signing keys, or HS256), opaque refresh tokens (and API keys)
//! stored as SHA-256 hashes, HMAC-sealed paging cursors, and sealing secrets at rest
//! (ChaCha20-Poly1305 under a key derived from `SECRET_KEY`): signing keys and TOTP secrets.

mod argon;
mod cursor;
mod hashing_threads;
mod jwt;
mod passkeys;
mod refresh;
mod seal;
mod second_factor;
mod signing;
mod verified;

pub use argon::Argon2Hasher;
pub use cursor::HmacCursorSealer;
pub use jwt::{JwtConfig, JwtError, JwtIssuer};
pub use passkeys::{WebAuthnCeremonies, WebAuthnConfigError, WebAuthnSettings};
pub use seal::{SealError, Sealer};
pub use second_factor::TotpSecondFactor;
pub use signing::{EdDsaIssuer, JwtAlgorithm, KeyCacheStats, MISS_RELOAD_INTERVAL, SigningKeyRing};
