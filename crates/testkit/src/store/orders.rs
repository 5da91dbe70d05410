use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::order::{Order, OrderId, OrderItem, OrderLine, OrderStatus};
use hexgate_domain::{Slice, UserId, Window};
use hexgate_ports::{OrderFilter, OrderRepository, PortError};

use super::InMemoryStore;
use super::window::cut;

/// Newest first, ties by id (descending), as the SQL adapter orders them.
fn newest_first(orders: &mut [Order]) {
    orders.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.0.cmp(&a.id.0)));
}

#[async_trait]
impl OrderRepository for InMemoryStore {
    async fn place(
        &self,
        id: OrderId,
        user: UserId,
        lines: &[OrderLine],
        now: DateTime<Utc>,
    ) -> Result<Order, PortError> {
        let mut state = self.lock();
        let unknown: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| !state.products.contains_key(&l.product_id))
            .map(|(i, _)| i)
            .collect();
        if !unknown.is_empty() {
            return Err(PortError::UnknownProducts(unknown));
        }
        // The foreign key: an order for a user who is gone is refused.
        if !state.users.contains_key(&user) {
            return Err(PortError::NotFound);
        }
        if state.orders.contains_key(&id) {
            return Err(PortError::Internal(format!("unique violation: orders.id {}", id.0)));
        }
        let items = lines
            .iter()
            .map(|line| {
                let product = &state.products[&line.product_id];
                OrderItem {
                    product_id: line.product_id,
                    name: product.name.as_str().to_owned(),
                    unit_price: product.price,
                    quantity: line.quantity,
                }
            })
            .collect();
        let order = Order { id, user_id: user, items, status: OrderStatus::Pending, created_at: now };
        state.orders.insert(id, order.clone());
        Ok(order)
    }

    async fn get(&self, id: OrderId) -> Result<Option<Order>, PortError> {
        Ok(self.lock().orders.get(&id).cloned())
    }

    async fn list(&self, filter: &OrderFilter, window: Window<DateTime<Utc>>) -> Result<Slice<Order>, PortError> {
        let orders: Vec<Order> = self
            .lock()
            .orders
            .values()
            .filter(|o| filter.user.is_none_or(|u| o.user_id == u) && filter.created.contains(o.created_at))
            .cloned()
            .collect();
        Ok(cut(orders, window, true, |o| (o.created_at, o.id.0)))
    }

    async fn recent_for_user(&self, user: UserId, limit: u64) -> Result<Vec<Order>, PortError> {
        let mut orders: Vec<Order> = self.lock().orders.values().filter(|o| o.user_id == user).cloned().collect();
        newest_first(&mut orders);
        orders.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(orders)
    }

    async fn cancel(&self, id: OrderId) -> Result<Order, PortError> {
        let mut state = self.lock();
        let order = state.orders.get_mut(&id).ok_or(PortError::NotFound)?;
        *order = order.cancelled()?;
        Ok(order.clone())
    }
}
