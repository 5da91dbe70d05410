use std::sync::Arc;

use hexgate_domain::order::Order;
use hexgate_domain::policy::owner_or_admin;
use hexgate_domain::preferences::Preferences;
use hexgate_domain::{User, UserId};

use crate::{Clock, OrderRepository, PortError, PreferencesRepository, Resource, ServiceError, UserRepository};

/// A user with their orders and preferences, read side by side.
pub struct Related {
    pub user: User,
    pub orders: Vec<Order>,
    pub preferences: Option<Preferences>,
}

pub struct ProfileService {
    users: Arc<dyn UserRepository>,
    orders: Arc<dyn OrderRepository>,
    preferences: Arc<dyn PreferencesRepository>,
    clock: Arc<dyn Clock>,
}

/// Orders shown in the related view; the full history is paginated at `/orders`.
pub const RELATED_ORDERS: u64 = 100;

fn require(actor: &User, owner: UserId) -> Result<(), ServiceError> {
    if owner_or_admin(actor, owner) { Ok(()) } else { Err(ServiceError::Forbidden) }
}

impl ProfileService {
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        orders: Arc<dyn OrderRepository>,
        preferences: Arc<dyn PreferencesRepository>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self { users, orders, preferences, clock }
    }

    /// Stored preferences, or the defaults when none are stored.
    ///
    /// # Errors
    /// `Forbidden` for someone else's (whether or not they exist); `NotFound` for an admin
    /// asking about a missing user.
    pub async fn preferences(&self, actor: &User, user: UserId) -> Result<Preferences, ServiceError> {
        require(actor, user)?;
        let (exists, stored) = futures_util::future::join(self.users.get(user), self.preferences.get(user)).await;
        exists?.ok_or(ServiceError::NotFound(Resource::User))?;
        Ok(stored?.unwrap_or_default())
    }

    /// # Errors
    /// As `preferences`.
    pub async fn set_preferences(
        &self,
        actor: &User,
        user: UserId,
        preferences: Preferences,
    ) -> Result<Preferences, ServiceError> {
        require(actor, user)?;
        match self.preferences.put(user, &preferences, self.clock.now()).await {
            Ok(()) => Ok(preferences),
            Err(PortError::NotFound) => Err(ServiceError::NotFound(Resource::User)),
            Err(other) => Err(other.into()),
        }
    }

    /// The user, their newest orders and their preferences: three independent reads run
    /// concurrently, not one after another.
    ///
    /// # Errors
    /// As `preferences`.
    pub async fn related(&self, actor: &User, user: UserId) -> Result<Related, ServiceError> {
        require(actor, user)?;
        let (found, orders, preferences) = futures_util::future::join3(
            self.users.get(user),
            self.orders.recent_for_user(user, RELATED_ORDERS),
            self.preferences.get(user),
        )
        .await;
        let user = found?.ok_or(ServiceError::NotFound(Resource::User))?;
        Ok(Related { user, orders: orders?, preferences: preferences? })
    }
}
