//! Reading one window of a sorted list: a numbered page (`OFFSET`, and a `COUNT` for the page
//! count) or the rows after a position (keyset: a row comparison on (sort column, id), which both
//! databases turn into a range on an index of those columns, and no `COUNT`, which would cost a
//! deep page what the offset saved).

use hexgate_domain::{Slice, Window};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ConnectionTrait, EntityTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Value,
};

use crate::error::port_error;
use hexgate_ports::PortError;

/// How a list is ordered: by `column`, then by `id`, both ascending or both descending. The
/// database must order `column` as the domain does (text by its bytes: the `"C"` collation on
/// PostgreSQL, `BINARY` on SQLite), or a cursor would skip or repeat rows.
pub(crate) struct Sorted<C> {
    pub column: C,
    pub id: C,
    pub descending: bool,
}

/// The rows of `query` in `window`, in `sorted`'s order; `value` binds a position's sort key.
pub(crate) async fn read_window<E, K>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    sorted: &Sorted<E::Column>,
    window: Window<K>,
    value: impl FnOnce(K) -> Value,
) -> Result<Slice<E::Model>, PortError>
where
    E: EntityTrait,
    E::Model: Send + Sync,
{
    let direction = if sorted.descending { Order::Desc } else { Order::Asc };
    let (query, total) = match window {
        Window::Offset { offset, limit } => {
            let total = query.clone().count(db).await.map_err(port_error)?;
            (query.offset(offset).limit(limit), Some(total))
        }
        Window::After { after, limit } => {
            // One row comparison, `(column, id) > (key, id)`, rather than `column > key OR
            // (column = key AND id > …)`: PostgreSQL makes an index range only of the former.
            let row = Expr::tuple([Expr::col(sorted.column), Expr::col(sorted.id)]);
            let position = Expr::tuple([Expr::val(value(after.key)), Expr::val(after.id)]);
            let beyond = if sorted.descending { row.lt(position) } else { row.gt(position) };
            (query.filter(beyond).limit(limit), None)
        }
    };
    let items = query
        .order_by(sorted.column, direction.clone())
        .order_by(sorted.id, direction)
        .all(db)
        .await
        .map_err(port_error)?;
    Ok(Slice { items, total })
}
