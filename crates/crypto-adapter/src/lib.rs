//! Cryptography behind the ports: Argon2id password hashing on the blocking pool, HS256 access
//! tokens, and opaque refresh tokens stored as SHA-256 hashes.

mod argon;
mod jwt;
mod refresh;

pub use argon::Argon2Hasher;
pub use jwt::{JwtConfig, JwtError, JwtIssuer};
