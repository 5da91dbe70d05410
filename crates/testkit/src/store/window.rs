//! One window of a sorted list, as the SQL adapter reads it (`postgres-adapter/src/keyset.rs`).

use hexgate_domain::{Slice, Window};
use uuid::Uuid;

/// `rows` in the order of their (sort key, id) positions, descending if asked, cut to `window`:
/// a counted offset page, or the rows strictly after a position, uncounted.
pub(super) fn cut<T, K: Ord>(
    mut rows: Vec<T>,
    window: Window<K>,
    descending: bool,
    position: impl Fn(&T) -> (K, Uuid),
) -> Slice<T> {
    rows.sort_by(|a, b| {
        let order = position(a).cmp(&position(b));
        if descending { order.reverse() } else { order }
    });
    let take = |limit: u64| usize::try_from(limit).unwrap_or(usize::MAX);
    match window {
        Window::Offset { offset, limit } => {
            let total = Some(rows.len() as u64);
            let items =
                rows.into_iter().skip(usize::try_from(offset).unwrap_or(usize::MAX)).take(take(limit)).collect();
            Slice { items, total }
        }
        Window::After { after, limit } => {
            let at = (after.key, after.id);
            let beyond = |row: &T| if descending { position(row) < at } else { position(row) > at };
            Slice { items: rows.into_iter().filter(beyond).take(take(limit)).collect(), total: None }
        }
    }
}
