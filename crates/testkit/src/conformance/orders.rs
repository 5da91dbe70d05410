//! [`OrderRepository`](hexgate_ports::OrderRepository): an order copies its products' names and
//! prices, unknown products are named by line, only a pending order is cancelled, and lists are
//! newest first with their user and date-range filters.

use chrono::Duration;
use hexgate_domain::money::Money;
use hexgate_domain::order::{DateRange, Order, OrderError, OrderId, OrderLine, OrderStatus};
use hexgate_domain::product::{ProductId, ProductUpdate};
use hexgate_domain::{Slice, UserId};
use hexgate_ports::{OrderFilter, PortError};

use super::support::{all, now, page, product, stored_user};
use crate::Storage;

pub async fn an_order_copies_its_products_names_and_prices(s: Storage) {
    let u = stored_user(&s, "buyer").await;
    let t0 = now();
    let (lamp, desk) = (product("Lamp", "19.99", t0), product("Desk", "120.00", t0));
    s.products.insert(&lamp).await.expect("insert");
    s.products.insert(&desk).await.expect("insert");
    let lines = [OrderLine { product_id: lamp.id, quantity: 3 }, OrderLine { product_id: desk.id, quantity: 1 }];
    let id = OrderId::new();
    let order = s.orders.place(id, u.id, &lines, t0).await.expect("place");
    assert_eq!((order.id, order.user_id, order.status, order.created_at), (id, u.id, OrderStatus::Pending, t0));
    let items: Vec<(&str, Money, u32)> =
        order.items.iter().map(|i| (i.name.as_str(), i.unit_price, i.quantity)).collect();
    assert_eq!(items, [("Lamp", lamp.price, 3), ("Desk", desk.price, 1)], "names and prices, in line order");
    assert_eq!(s.orders.get(id).await.expect("get"), Some(order.clone()), "reads back as placed");

    let raise = ProductUpdate { price: Some(Money::parse("99.99").expect("p")), ..ProductUpdate::default() };
    s.products.update(lamp.id, &raise, t0).await.expect("update");
    s.products.delete(desk.id).await.expect("delete");
    assert_eq!(s.orders.get(id).await.expect("get"), Some(order), "a later price change or delete leaves the order be");

    let unknown = [
        OrderLine { product_id: lamp.id, quantity: 1 },
        OrderLine { product_id: ProductId::new(), quantity: 1 },
        OrderLine { product_id: desk.id, quantity: 1 },
    ];
    let outcome = s.orders.place(OrderId::new(), u.id, &unknown, t0).await;
    assert!(matches!(&outcome, Err(PortError::UnknownProducts(lines)) if lines == &[1, 2]), "{outcome:?}");
    let lamp_only = [OrderLine { product_id: lamp.id, quantity: 1 }];
    let outcome = s.orders.place(OrderId::new(), UserId::new(), &lamp_only, t0).await;
    assert!(matches!(outcome, Err(PortError::NotFound)), "an order for a missing user: {outcome:?}");
    assert_eq!(s.orders.get(OrderId::new()).await.expect("get"), None);
}

pub async fn only_a_pending_order_can_be_cancelled(s: Storage) {
    let u = stored_user(&s, "canceller").await;
    let t0 = now();
    let lamp = product("Lamp", "19.99", t0);
    s.products.insert(&lamp).await.expect("insert");
    let order = s.orders.place(OrderId::new(), u.id, &[OrderLine { product_id: lamp.id, quantity: 1 }], t0).await;
    let order = order.expect("place");
    let cancelled = s.orders.cancel(order.id).await.expect("cancel");
    assert_eq!(cancelled.status, OrderStatus::Cancelled);
    assert_eq!(s.orders.get(order.id).await.expect("get").map(|o| o.status), Some(OrderStatus::Cancelled));
    let again = s.orders.cancel(order.id).await;
    assert!(
        matches!(again, Err(PortError::Order(OrderError::NotPending(OrderStatus::Cancelled)))),
        "cancelling twice: {again:?}"
    );
    let missing = s.orders.cancel(OrderId::new()).await;
    assert!(matches!(missing, Err(PortError::NotFound)), "{missing:?}");
}

pub async fn orders_list_newest_first_by_user_and_date_range(s: Storage) {
    let (u, v) = (stored_user(&s, "regular").await, stored_user(&s, "other").await);
    let t0 = now();
    let lamp = product("Lamp", "1.00", t0);
    s.products.insert(&lamp).await.expect("insert");
    let line = [OrderLine { product_id: lamp.id, quantity: 1 }];
    let mut mine = Vec::new();
    for day in 0..4 {
        let at = t0 + Duration::days(day);
        mine.push(s.orders.place(OrderId::new(), u.id, &line, at).await.expect("place").id);
    }
    let theirs = s.orders.place(OrderId::new(), v.id, &line, t0 + Duration::hours(1)).await.expect("place").id;

    let ids = |slice: Slice<Order>| slice.items.into_iter().map(|o| o.id).collect::<Vec<_>>();
    let every = s.orders.list(&OrderFilter::default(), all()).await.expect("list");
    assert_eq!(ids(every), [mine[3], mine[2], mine[1], theirs, mine[0]], "newest first");
    let users = OrderFilter { user: Some(u.id), ..OrderFilter::default() };
    let second = s.orders.list(&users, page(2, 3)).await.expect("list");
    assert_eq!(second.total, Some(4));
    assert_eq!(ids(second), [mine[0]], "the user's, second page");
    let range = DateRange::new(Some(t0 + Duration::days(1)), Some(t0 + Duration::days(3))).expect("range");
    let ranged = OrderFilter { user: Some(u.id), created: range };
    let within = s.orders.list(&ranged, all()).await.expect("list");
    assert_eq!(ids(within), [mine[2], mine[1]], "from the start, up to but not including the end");

    let recent = s.orders.recent_for_user(u.id, 2).await.expect("recent");
    assert_eq!(recent.into_iter().map(|o| o.id).collect::<Vec<_>>(), [mine[3], mine[2]]);
    assert!(s.orders.recent_for_user(UserId::new(), 5).await.expect("recent").is_empty());
}
