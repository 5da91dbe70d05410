mod auth;
mod catalog;
mod orders;
mod profile;
mod users;

pub use auth::{AuthPolicy, AuthService, LoginAttempt, Principal, SessionView, TokenPair};
pub use catalog::CatalogService;
pub use orders::OrderService;
pub use profile::{ProfileService, RELATED_ORDERS, Related};
pub use users::{NewAccount, SuperuserOutcome, UserChanges, UserService};
