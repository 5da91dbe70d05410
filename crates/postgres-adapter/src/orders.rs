use crate::DatabasePools;
use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::money::Money;
use hexgate_domain::order::{Order, OrderId, OrderItem, OrderLine, OrderStatus};
use hexgate_domain::product::ProductId;
use hexgate_domain::{Slice, UserId, Window};
use hexgate_ports::{OrderFilter, OrderRepository, PortError};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::decimal::DbDecimal;
use crate::entity::{order_items, orders, products};
use crate::error::port_error;
use crate::keyset::{Sorted, read_window};
use crate::lock::{become_writer, for_update};

#[derive(Clone)]
pub struct SqlOrderRepository {
    db: DatabasePools,
}

impl SqlOrderRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

fn corrupt(id: Uuid, what: &str) -> PortError {
    PortError::Internal(format!("order {id} has an invalid {what}"))
}

fn to_domain(m: orders::Model, items: Vec<order_items::Model>) -> Result<Order, PortError> {
    let items = items
        .into_iter()
        .map(|i| {
            Ok(OrderItem {
                product_id: ProductId(i.product_id),
                name: i.name,
                unit_price: Money::new(i.unit_price.0).map_err(|_| corrupt(m.id, "price"))?,
                quantity: u32::try_from(i.quantity).map_err(|_| corrupt(m.id, "quantity"))?,
            })
        })
        .collect::<Result<Vec<_>, PortError>>()?;
    Ok(Order {
        id: OrderId(m.id),
        user_id: UserId::from_uuid(m.user_id),
        items,
        status: m.status.parse().map_err(|_| corrupt(m.id, "status"))?,
        created_at: m.created_at,
    })
}

/// Loads the items of `rows` in one query and assembles the orders.
async fn with_items(db: &impl ConnectionTrait, rows: Vec<orders::Model>) -> Result<Vec<Order>, PortError> {
    let ids: Vec<Uuid> = rows.iter().map(|o| o.id).collect();
    let mut items: HashMap<Uuid, Vec<order_items::Model>> = HashMap::new();
    if !ids.is_empty() {
        let all = order_items::Entity::find()
            .filter(order_items::Column::OrderId.is_in(ids))
            .order_by_asc(order_items::Column::Position)
            .all(db)
            .await
            .map_err(port_error)?;
        for item in all {
            items.entry(item.order_id).or_default().push(item);
        }
    }
    rows.into_iter()
        .map(|o| {
            let its = items.remove(&o.id).unwrap_or_default();
            to_domain(o, its)
        })
        .collect()
}

fn filtered(filter: &OrderFilter) -> Select<orders::Entity> {
    let mut query = orders::Entity::find();
    if let Some(user) = filter.user {
        query = query.filter(orders::Column::UserId.eq(user.as_uuid()));
    }
    if let Some(start) = filter.created.start {
        query = query.filter(orders::Column::CreatedAt.gte(start));
    }
    if let Some(end) = filter.created.end {
        query = query.filter(orders::Column::CreatedAt.lt(end));
    }
    query
}

#[async_trait]
impl OrderRepository for SqlOrderRepository {
    async fn place(
        &self,
        id: OrderId,
        user: UserId,
        lines: &[OrderLine],
        now: DateTime<Utc>,
    ) -> Result<Order, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        become_writer(&txn).await.map_err(port_error)?;
        let wanted: Vec<Uuid> = lines.iter().map(|l| l.product_id.0).collect();
        let found: HashMap<Uuid, products::Model> = products::Entity::find()
            .filter(products::Column::Id.is_in(wanted))
            .all(&txn)
            .await
            .map_err(port_error)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let unknown: Vec<usize> =
            lines.iter().enumerate().filter(|(_, l)| !found.contains_key(&l.product_id.0)).map(|(i, _)| i).collect();
        if !unknown.is_empty() {
            return Err(PortError::UnknownProducts(unknown));
        }
        let mut items = Vec::with_capacity(lines.len());
        for line in lines {
            let product = &found[&line.product_id.0];
            items.push(OrderItem {
                product_id: line.product_id,
                name: product.name.clone(),
                unit_price: Money::new(product.price.0).map_err(|_| corrupt(id.0, "product price"))?,
                quantity: line.quantity,
            });
        }
        let order = Order { id, user_id: user, items, status: OrderStatus::Pending, created_at: now };
        orders::Entity::insert(orders::ActiveModel {
            id: Set(id.0),
            user_id: Set(user.as_uuid()),
            status: Set(order.status.as_str().to_owned()),
            total: Set(DbDecimal(order.total())),
            created_at: Set(now),
        })
        .exec_without_returning(&txn)
        .await
        .map_err(port_error)?;
        order_items::Entity::insert_many(order.items.iter().enumerate().map(|(position, item)| {
            order_items::ActiveModel {
                id: Set(Uuid::now_v7()),
                order_id: Set(id.0),
                position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
                product_id: Set(item.product_id.0),
                name: Set(item.name.clone()),
                unit_price: Set(DbDecimal(item.unit_price.amount())),
                quantity: Set(i32::try_from(item.quantity).unwrap_or(i32::MAX)),
            }
        }))
        .exec_without_returning(&txn)
        .await
        .map_err(port_error)?;
        txn.commit().await.map_err(port_error)?;
        Ok(order)
    }

    async fn get(&self, id: OrderId) -> Result<Option<Order>, PortError> {
        let Some(row) = orders::Entity::find_by_id(id.0).one(self.db.conn()).await.map_err(port_error)? else {
            return Ok(None);
        };
        Ok(with_items(self.db.conn(), vec![row]).await?.pop())
    }

    async fn list(&self, filter: &OrderFilter, window: Window<DateTime<Utc>>) -> Result<Slice<Order>, PortError> {
        let newest_first = Sorted { column: orders::Column::CreatedAt, id: orders::Column::Id, descending: true };
        let slice = read_window(self.db.conn(), filtered(filter), &newest_first, window, Into::into).await?;
        Ok(Slice { items: with_items(self.db.conn(), slice.items).await?, total: slice.total })
    }

    async fn recent_for_user(&self, user: UserId, limit: u64) -> Result<Vec<Order>, PortError> {
        let rows = filtered(&OrderFilter { user: Some(user), ..OrderFilter::default() })
            .order_by_desc(orders::Column::CreatedAt)
            .order_by_desc(orders::Column::Id)
            .limit(limit)
            .all(self.db.conn())
            .await
            .map_err(port_error)?;
        with_items(self.db.conn(), rows).await
    }

    async fn cancel(&self, id: OrderId) -> Result<Order, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        become_writer(&txn).await.map_err(port_error)?;
        let row = for_update(&txn, orders::Entity::find_by_id(id.0))
            .one(&txn)
            .await
            .map_err(port_error)?
            .ok_or(PortError::NotFound)?;
        let order = with_items(&txn, vec![row]).await?.pop().ok_or(PortError::NotFound)?;
        let cancelled = order.cancelled()?;
        orders::Entity::update_many()
            .col_expr(orders::Column::Status, sea_orm::sea_query::Expr::value(cancelled.status.as_str()))
            .filter(orders::Column::Id.eq(id.0))
            .exec(&txn)
            .await
            .map_err(port_error)?;
        txn.commit().await.map_err(port_error)?;
        Ok(cancelled)
    }
}
