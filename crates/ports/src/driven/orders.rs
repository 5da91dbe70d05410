use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::order::{DateRange, Order, OrderId, OrderLine};
use hexgate_domain::{Slice, UserId, Window};

use crate::PortError;

/// Which orders a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderFilter {
    pub user: Option<UserId>,
    pub created: DateRange,
}

/// Where orders are kept.
///
/// # Errors
/// [`PortError::UnknownProducts`] when lines name products that do not exist;
/// [`PortError::Order`] for a state change the order does not allow; [`PortError::NotFound`];
/// [`PortError::Unavailable`].
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// Reads the products and writes the order with their current names and prices, in one
    /// transaction: a price change cannot slip between the read and the write.
    async fn place(
        &self,
        id: OrderId,
        user: UserId,
        lines: &[OrderLine],
        now: DateTime<Utc>,
    ) -> Result<Order, PortError>;
    async fn get(&self, id: OrderId) -> Result<Option<Order>, PortError>;
    /// Newest first (`created_at`, then id, both descending). [`Window::After`] continues
    /// strictly after a (`created_at`, id) position and counts nothing.
    async fn list(&self, filter: &OrderFilter, window: Window<DateTime<Utc>>) -> Result<Slice<Order>, PortError>;
    /// The user's newest orders, at most `limit`.
    async fn recent_for_user(&self, user: UserId, limit: u64) -> Result<Vec<Order>, PortError>;
    /// Cancels a pending order, atomically with the check.
    async fn cancel(&self, id: OrderId) -> Result<Order, PortError>;
}
