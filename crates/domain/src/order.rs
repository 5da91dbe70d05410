use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use thiserror::Error;
use uuid::Uuid;

use crate::money::Money;
use crate::product::ProductId;
use crate::{RuleViolation, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderId(pub Uuid);

impl OrderId {
    #[must_use]
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for OrderId {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Pending,
    Cancelled,
}

impl OrderStatus {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Cancelled => "cancelled",
        }
    }
}

impl FromStr for OrderStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(Self::Pending),
            "cancelled" => Ok(Self::Cancelled),
            other => Err(format!("unknown order status {other:?}")),
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OrderError {
    #[error("only a pending order can be cancelled (this one is {0})")]
    NotPending(OrderStatus),
    #[error("an order needs between 1 and {max} items")]
    ItemCount { max: usize },
    #[error("quantity must be between 1 and {max}")]
    Quantity { max: u32 },
}

impl RuleViolation for OrderError {
    fn code(&self) -> &'static str {
        match self {
            Self::NotPending(_) => "order_not_pending",
            Self::ItemCount { .. } => "order_item_count",
            Self::Quantity { .. } => "order_quantity",
        }
    }
}

/// A line of an order, with the name and price copied from the product at order time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    pub product_id: ProductId,
    pub name: String,
    pub unit_price: Money,
    pub quantity: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub id: OrderId,
    pub user_id: UserId,
    pub items: Vec<OrderItem>,
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
}

impl Order {
    pub const MAX_ITEMS: usize = 50;
    pub const MAX_QUANTITY: u32 = 1000;

    /// The sum of `unit_price × quantity` over the items (before tax), exact.
    #[must_use]
    pub fn total(&self) -> Decimal {
        self.items.iter().map(|i| i.unit_price.times(i.quantity)).sum()
    }

    /// The order after cancelling it.
    ///
    /// # Errors
    /// [`OrderError::NotPending`] unless the order is pending.
    pub fn cancelled(&self) -> Result<Self, OrderError> {
        match self.status {
            OrderStatus::Pending => Ok(Self { status: OrderStatus::Cancelled, ..self.clone() }),
            other => Err(OrderError::NotPending(other)),
        }
    }
}

/// What a customer asks for: product and quantity per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub quantity: u32,
}

/// Checks the shape of an order request: 1..=50 lines, quantities 1..=1000.
///
/// # Errors
/// [`OrderError`] for the first rule broken.
pub fn check_lines(lines: &[OrderLine]) -> Result<(), OrderError> {
    if lines.is_empty() || lines.len() > Order::MAX_ITEMS {
        return Err(OrderError::ItemCount { max: Order::MAX_ITEMS });
    }
    if lines.iter().any(|l| l.quantity == 0 || l.quantity > Order::MAX_QUANTITY) {
        return Err(OrderError::Quantity { max: Order::MAX_QUANTITY });
    }
    Ok(())
}

/// The seed's `DateRange` rule: when both ends are given, `start` must be before `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DateRange {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("start_date must be before end_date")]
pub struct DateRangeError;

impl RuleViolation for DateRangeError {
    fn code(&self) -> &'static str {
        "date_range_inverted"
    }
}

impl DateRange {
    /// # Errors
    /// [`DateRangeError`] when both are given and `start >= end`.
    pub fn new(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Result<Self, DateRangeError> {
        match (start, end) {
            (Some(s), Some(e)) if s >= e => Err(DateRangeError),
            _ => Ok(Self { start, end }),
        }
    }

    #[must_use]
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| at >= s) && self.end.is_none_or(|e| at < e)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn item(price: &str, quantity: u32) -> OrderItem {
        OrderItem {
            product_id: ProductId::new(),
            name: "x".into(),
            unit_price: Money::parse(price).expect("price"),
            quantity,
        }
    }

    fn order() -> Order {
        Order {
            id: OrderId::new(),
            user_id: UserId::new(),
            items: vec![item("19.99", 3), item("0.01", 1000)],
            status: OrderStatus::Pending,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn the_total_is_exact() {
        assert_eq!(order().total(), Decimal::from_str("69.97").expect("d"));
    }

    #[test]
    fn only_a_pending_order_can_be_cancelled() {
        let cancelled = order().cancelled().expect("pending");
        assert_eq!(cancelled.status, OrderStatus::Cancelled);
        assert_eq!(cancelled.cancelled(), Err(OrderError::NotPending(OrderStatus::Cancelled)));
    }

    #[test]
    fn lines_are_bounded() {
        let line = OrderLine { product_id: ProductId::new(), quantity: 1 };
        assert!(check_lines(&[line]).is_ok());
        assert!(check_lines(&[]).is_err());
        assert!(check_lines(&vec![line; 51]).is_err());
        assert!(check_lines(&vec![line; 50]).is_ok());
        assert!(check_lines(&[OrderLine { quantity: 0, ..line }]).is_err());
        assert!(check_lines(&[OrderLine { quantity: 1001, ..line }]).is_err());
    }

    #[test]
    fn a_date_range_needs_start_before_end() {
        let now = Utc::now();
        assert!(DateRange::new(Some(now), Some(now + Duration::days(1))).is_ok());
        assert_eq!(DateRange::new(Some(now), Some(now)), Err(DateRangeError));
        assert_eq!(DateRange::new(Some(now + Duration::days(1)), Some(now)), Err(DateRangeError));
        assert!(DateRange::new(Some(now), None).is_ok() && DateRange::new(None, None).is_ok());
        let range = DateRange::new(Some(now), Some(now + Duration::hours(1))).expect("ok");
        assert!(range.contains(now) && !range.contains(now + Duration::hours(1)));
    }
}
