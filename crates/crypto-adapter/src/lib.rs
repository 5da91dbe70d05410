//! Cryptography behind the ports: Argon2id password hashing on the blocking pool, HS256 access
//! tokens, opaque refresh tokens (and API keys) stored as SHA-256 hashes, and HMAC-sealed paging
//! cursors.

mod argon;
mod cursor;
mod jwt;
mod refresh;

pub use argon::Argon2Hasher;
pub use cursor::HmacCursorSealer;
pub use jwt::{JwtConfig, JwtError, JwtIssuer};
