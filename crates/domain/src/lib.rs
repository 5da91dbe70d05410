//! hexgate's business rules: entities, value objects that cannot hold a bad value, and the pure
//! rules (permissions, the last-admin rule, refresh-token families, pagination) that every adapter
//! and the HTTP layer rely on. Nothing here knows about HTTP, SQL, Redis or a runtime.

pub mod api_key;
pub mod audit;
pub mod chat;
pub mod email;
pub mod error;
pub mod file;
pub mod full_name;
pub mod job;
pub mod mfa;
pub mod money;
pub mod order;
pub mod org;
pub mod pagination;
pub mod passkey;
pub mod password;
pub mod permission;
pub mod policy;
pub mod preferences;
pub mod product;
pub mod session;
pub mod text;
pub mod user;
pub mod username;

pub use email::Email;
pub use error::{DomainError, RuleViolation};
pub use full_name::FullName;
pub use pagination::{InvalidCursor, Page, PageRequest, PageStart, Position, Slice, Window};
pub use password::{Password, PasswordHash};
pub use permission::{Permission, PermissionSet};
pub use session::{RefreshVerdict, SessionId};
pub use user::{NewUser, User, UserFilter, UserId, UserSort, UserSortKey, UserUpdate};
pub use username::Username;
