pub(crate) mod jobs;
pub(crate) mod order_items;
pub(crate) mod orders;
pub(crate) mod products;
pub(crate) mod refresh_tokens;
pub(crate) mod sessions;
pub(crate) mod user_preferences;
pub(crate) mod users;
