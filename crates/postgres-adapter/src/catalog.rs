use crate::DatabasePools;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::money::{Money, TaxRate};
use hexgate_domain::product::{Product, ProductId, ProductName, ProductUpdate};
use hexgate_domain::{Slice, Window};
use hexgate_ports::{PortError, ProductRepository};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TransactionTrait};

use crate::decimal::DbDecimal;
use crate::entity::products::{ActiveModel, Column, Entity, Model};
use crate::error::port_error;
use crate::keyset::{Sorted, read_window};
use crate::lock::become_writer;
use crate::users::contains_pattern;

#[derive(Clone)]
pub struct SqlProductRepository {
    db: DatabasePools,
}

impl SqlProductRepository {
    #[must_use]
    pub fn new(db: impl Into<DatabasePools>) -> Self {
        Self { db: db.into() }
    }
}

pub(crate) fn to_domain(m: Model) -> Result<Product, PortError> {
    let corrupt = |what: &str| PortError::Internal(format!("product {} has an invalid {what}", m.id));
    Ok(Product {
        id: ProductId(m.id),
        name: ProductName::parse(&m.name).map_err(|_| corrupt("name"))?,
        price: Money::new(m.price.0).map_err(|_| corrupt("price"))?,
        tax_rate: TaxRate::new(m.tax_rate.0).map_err(|_| corrupt("tax rate"))?,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn to_active(p: &Product) -> ActiveModel {
    ActiveModel {
        id: Set(p.id.0),
        name: Set(p.name.as_str().to_owned()),
        price: Set(DbDecimal(p.price.amount())),
        tax_rate: Set(DbDecimal(p.tax_rate.rate())),
        created_at: Set(p.created_at),
        updated_at: Set(p.updated_at),
    }
}

#[async_trait]
impl ProductRepository for SqlProductRepository {
    async fn insert(&self, product: &Product) -> Result<(), PortError> {
        Entity::insert(to_active(product)).exec_without_returning(self.db.conn()).await.map_err(port_error)?;
        Ok(())
    }

    async fn get(&self, id: ProductId) -> Result<Option<Product>, PortError> {
        Entity::find_by_id(id.0).one(self.db.conn()).await.map_err(port_error)?.map(to_domain).transpose()
    }

    async fn list(&self, q: Option<&str>, window: Window<DateTime<Utc>>) -> Result<Slice<Product>, PortError> {
        let mut query = Entity::find();
        if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
            query = query
                .filter(Expr::expr(Func::lower(Expr::col(Column::Name))).like(contains_pattern(&q.to_lowercase())));
        }
        let newest_first = Sorted { column: Column::CreatedAt, id: Column::Id, descending: true };
        let slice = read_window(self.db.conn(), query, &newest_first, window, Into::into).await?;
        Ok(Slice { items: slice.items.into_iter().map(to_domain).collect::<Result<_, _>>()?, total: slice.total })
    }

    async fn update(&self, id: ProductId, update: &ProductUpdate, now: DateTime<Utc>) -> Result<Product, PortError> {
        let txn = self.db.conn().begin().await.map_err(port_error)?;
        become_writer(&txn).await.map_err(port_error)?;
        let model = Entity::find_by_id(id.0).one(&txn).await.map_err(port_error)?.ok_or(PortError::NotFound)?;
        let after = update.apply(&to_domain(model)?, now);
        let mut active = to_active(&after).into_active_model();
        active.id = sea_orm::Unchanged(after.id.0);
        active.created_at = sea_orm::Unchanged(after.created_at);
        active.update(&txn).await.map_err(port_error)?;
        txn.commit().await.map_err(port_error)?;
        Ok(after)
    }

    async fn delete(&self, id: ProductId) -> Result<(), PortError> {
        let result = Entity::delete_by_id(id.0).exec(self.db.conn()).await.map_err(port_error)?;
        if result.rows_affected == 0 { Err(PortError::NotFound) } else { Ok(()) }
    }
}
