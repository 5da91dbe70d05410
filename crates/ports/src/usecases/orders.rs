use std::sync::Arc;

use hexgate_domain::order::{DateRange, Order, OrderId, OrderLine, check_lines};
use hexgate_domain::policy::owner_or_admin;
use hexgate_domain::{Page, PageRequest, User, UserId};

use super::paging::{Cursors, Fingerprint, read_time_key, time_key};
use crate::{Clock, CursorSealer, FieldViolation, OrderFilter, OrderRepository, Resource, ServiceError};

pub struct OrderService {
    orders: Arc<dyn OrderRepository>,
    clock: Arc<dyn Clock>,
    /// Seals the list's `next_cursor`s and opens those sent back.
    cursors: Arc<dyn CursorSealer>,
}

const NOT_FOUND: ServiceError = ServiceError::NotFound(Resource::Order);

impl OrderService {
    #[must_use]
    pub fn new(orders: Arc<dyn OrderRepository>, clock: Arc<dyn Clock>, cursors: Arc<dyn CursorSealer>) -> Self {
        Self { orders, clock, cursors }
    }

    /// # Errors
    /// `Invalid` for a malformed order (`items`) and naming lines with unknown products.
    pub async fn place(&self, actor: &User, lines: &[OrderLine]) -> Result<Order, ServiceError> {
        check_lines(lines).map_err(|e| ServiceError::Invalid(vec![FieldViolation::rule("items", &e)]))?;
        Ok(self.orders.place(OrderId::new(), actor.id, lines, self.clock.now()).await?)
    }

    /// A user sees their own orders; an admin sees all, or one user's with `user`. Newest first,
    /// by page number or by a cursor an earlier page of the same list gave.
    ///
    /// # Errors
    /// `Forbidden` when a non-admin asks for someone else's orders; `BadCursor`.
    pub async fn list(
        &self,
        actor: &User,
        user: Option<UserId>,
        created: DateRange,
        page: PageRequest,
    ) -> Result<Page<Order>, ServiceError> {
        let user = if actor.permissions.is_admin() {
            user
        } else {
            match user {
                Some(other) if other != actor.id => return Err(ServiceError::Forbidden),
                _ => Some(actor.id),
            }
        };
        let micros = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(time_key);
        // The user is the one the list is scoped to (the caller's own for a non-admin), so one
        // user's cursor never opens on another's list.
        let fingerprint = Fingerprint::default()
            .optional(user.map(|u| u.as_uuid().to_string()).as_deref())
            .optional(micros(created.start).as_deref())
            .optional(micros(created.end).as_deref());
        let cursors = Cursors::new(&*self.cursors, "orders", fingerprint);
        let window = cursors.window(&page, read_time_key)?;
        let slice = self.orders.list(&OrderFilter { user, created }, window).await?;
        Ok(cursors.page(slice, &page, |last| (last.id.0, time_key(last.created_at))))
    }

    /// # Errors
    /// `NotFound` for a missing order and for someone else's (which does not reveal it exists).
    pub async fn get(&self, actor: &User, id: OrderId) -> Result<Order, ServiceError> {
        match self.orders.get(id).await? {
            Some(order) if owner_or_admin(actor, order.user_id) => Ok(order),
            _ => Err(NOT_FOUND),
        }
    }

    /// # Errors
    /// `NotFound` as for `get`; `Conflict` unless the order is pending.
    pub async fn cancel(&self, actor: &User, id: OrderId) -> Result<Order, ServiceError> {
        self.get(actor, id).await?;
        Ok(self.orders.cancel(id).await?)
    }
}
