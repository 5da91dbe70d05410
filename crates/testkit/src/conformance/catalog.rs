//! [`ProductRepository`](hexgate_ports::ProductRepository): round trip, updates, deletes, and the
//! list's order (newest first, ties by id) and name filter.

use chrono::Duration;
use hexgate_domain::Slice;
use hexgate_domain::money::Money;
use hexgate_domain::product::{Product, ProductId, ProductUpdate};
use hexgate_ports::PortError;

use super::support::{all, now, page, product};
use crate::Storage;

pub async fn products_round_trip_update_and_delete(s: Storage) {
    let t0 = now();
    let lamp = product("Lamp", "19.99", t0);
    s.products.insert(&lamp).await.expect("insert");
    assert_eq!(s.products.get(lamp.id).await.expect("get"), Some(lamp.clone()), "reads back as written");
    assert_eq!(s.products.get(ProductId::new()).await.expect("get"), None);

    let t1 = t0 + Duration::seconds(1);
    let update = ProductUpdate { price: Some(Money::parse("24.50").expect("price")), ..ProductUpdate::default() };
    let updated = s.products.update(lamp.id, &update, t1).await.expect("update");
    assert_eq!(
        (updated.price, updated.name.as_str(), updated.updated_at),
        (Money::parse("24.5").expect("p"), "Lamp", t1)
    );
    assert_eq!(s.products.get(lamp.id).await.expect("get"), Some(updated));
    let outcome = s.products.update(ProductId::new(), &update, t1).await;
    assert!(matches!(outcome, Err(PortError::NotFound)), "updating a missing product: {outcome:?}");

    s.products.delete(lamp.id).await.expect("delete");
    assert_eq!(s.products.get(lamp.id).await.expect("get"), None);
    let outcome = s.products.delete(lamp.id).await;
    assert!(matches!(outcome, Err(PortError::NotFound)), "deleting it again: {outcome:?}");
}

pub async fn products_list_newest_first_filtered_by_name(s: Storage) {
    let t0 = now();
    let names = ["Desk Lamp", "Chair", "Floor LAMP", "Table"];
    for (i, name) in names.into_iter().enumerate() {
        let at = t0 + Duration::seconds(i64::try_from(i).expect("small"));
        s.products.insert(&product(name, "10.00", at)).await.expect("insert");
    }
    let listed = |slice: &Slice<Product>| slice.items.iter().map(|p| p.name.as_str().to_owned()).collect::<Vec<_>>();
    let every = s.products.list(None, all()).await.expect("list");
    assert_eq!(listed(&every), ["Table", "Floor LAMP", "Chair", "Desk Lamp"], "newest first");
    let second = s.products.list(None, page(2, 3)).await.expect("list");
    assert_eq!((listed(&second), second.total), (vec!["Desk Lamp".to_owned()], Some(4)));
    let lamps = s.products.list(Some("  lamp "), all()).await.expect("list");
    assert_eq!(listed(&lamps), ["Floor LAMP", "Desk Lamp"], "a trimmed, case-insensitive substring of the name");
    assert_eq!(s.products.list(Some("%"), all()).await.expect("list").total, Some(0), "no wildcard");
    assert_eq!(s.products.list(Some("   "), all()).await.expect("list").total, Some(4), "blank: all");

    // Ties on created_at: by id, newest (largest) first.
    let tied_at = t0 + Duration::seconds(10);
    let mut ids = Vec::new();
    for name in ["Tie A", "Tie B"] {
        let p = product(name, "1.00", tied_at);
        ids.push(p.id);
        s.products.insert(&p).await.expect("insert");
    }
    ids.sort();
    ids.reverse();
    let top = s.products.list(None, page(1, 2)).await.expect("list");
    assert_eq!(top.items.iter().map(|p| p.id).collect::<Vec<_>>(), ids);
}
