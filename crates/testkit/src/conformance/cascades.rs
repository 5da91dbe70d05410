//! Deleting a user takes everything of theirs with it, in every port, and nothing of anyone
//! else's: sessions and their tokens, account tokens, orders, preferences and files.

use chrono::Duration;
use hexgate_domain::User;
use hexgate_domain::file::{FileId, OriginalFilename};
use hexgate_domain::order::{OrderId, OrderLine};
use hexgate_domain::preferences::Preferences;
use hexgate_ports::{NewFile, OrderFilter, RefreshOutcome, TokenPurpose, process_file_job};

use super::support::{hash, now, product, session, stored_user};
use crate::Storage;

struct Belongings {
    session: hexgate_domain::SessionId,
    order: OrderId,
    file: FileId,
}

async fn give_everything(s: &Storage, u: &User, tag: &str, line: &[OrderLine]) -> Belongings {
    let t0 = now();
    let family = session(u.id, t0);
    s.sessions.create(&family, &hash(&format!("{tag}-refresh"))).await.expect("session");
    let reset = hash(&format!("{tag}-reset"));
    s.account_tokens
        .issue(u.id, TokenPurpose::PasswordReset, &reset, t0 + Duration::hours(1), t0)
        .await
        .expect("issue");
    let order = s.orders.place(OrderId::new(), u.id, line, t0).await.expect("order").id;
    s.preferences.put(u.id, &Preferences::default(), t0).await.expect("preferences");
    let file = NewFile { id: FileId::new(), owner: u.id, filename: OriginalFilename::sanitize("f.txt"), size: 1 };
    s.files.create(&file, &process_file_job(file.id), t0).await.expect("file");
    Belongings { session: family.id, order, file: file.id }
}

pub async fn deleting_a_user_deletes_what_is_theirs_and_nothing_else(s: Storage) {
    let (gone, stays) = (stored_user(&s, "leaver").await, stored_user(&s, "stayer").await);
    let lamp = product("Lamp", "5.00", now());
    s.products.insert(&lamp).await.expect("product");
    let line = [OrderLine { product_id: lamp.id, quantity: 1 }];
    let theirs = give_everything(&s, &gone, "gone", &line).await;
    let kept = give_everything(&s, &stays, "stays", &line).await;

    s.users.delete(gone.id).await.expect("delete");
    let t = now();
    assert_eq!(s.users.get(gone.id).await.expect("get"), None);
    assert!(s.sessions.list_live(gone.id, t).await.expect("sessions").is_empty(), "sessions go");
    assert_eq!(s.sessions.find_by_token(gone.id, &hash("gone-refresh")).await.expect("find"), None, "and tokens");
    let (presented, successor) = (hash("gone-refresh"), hash("gone-next"));
    let refresh = s.sessions.refresh(&presented, &successor, t, Duration::zero(), t + Duration::days(1)).await;
    assert_eq!(refresh.expect("refresh"), RefreshOutcome::Invalid, "a refresh token of theirs is unknown");
    let reset = s.account_tokens.reset_password(&hash("gone-reset"), &gone.password_hash, t).await;
    assert_eq!(reset.expect("reset"), None, "account tokens go");
    assert_eq!(s.orders.get(theirs.order).await.expect("order"), None, "orders go");
    let filter = OrderFilter { user: Some(gone.id), ..OrderFilter::default() };
    assert_eq!(s.orders.list(&filter, super::support::all()).await.expect("list").total, Some(0));
    assert_eq!(s.preferences.get(gone.id).await.expect("preferences"), None, "preferences go");
    assert!(s.files.get(theirs.file).await.expect("file").is_none(), "files go");

    let live = s.sessions.list_live(stays.id, t).await.expect("sessions");
    assert_eq!(live.into_iter().map(|s| s.id).collect::<Vec<_>>(), [kept.session], "the other user keeps theirs");
    assert!(s.orders.get(kept.order).await.expect("order").is_some());
    assert!(s.preferences.get(stays.id).await.expect("preferences").is_some());
    assert!(s.files.get(kept.file).await.expect("file").is_some());
    let reset = s.account_tokens.reset_password(&hash("stays-reset"), &stays.password_hash, t).await;
    assert_eq!(reset.expect("reset"), Some(stays.id));
    assert!(s.products.get(lamp.id).await.expect("product").is_some(), "products are nobody's");
}
