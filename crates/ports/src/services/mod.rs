mod auth;
mod users;

pub use auth::{AuthPolicy, AuthService, LoginAttempt, Principal, SessionView, TokenPair};
pub use users::{NewAccount, SuperuserOutcome, UserChanges, UserService};
