//! Cursors for the paginated lists (users, products, orders), sealed by the [`CursorSealer`] the
//! audit log's cursors use. A cursor's payload is `v1|<list>|<filter>|<id>|<key>`: the list it
//! was made for, a fingerprint of that list's filter and sort, and the position of its page's
//! last row (its id, then its sort key, last so that it may hold any character). The seal makes
//! a cursor tamper-evident; the list and the fingerprint make one from another list, sort or
//! filter fail to open rather than be misread. A cursor is only a position: the filter itself
//! always comes from the request, so a cursor can never widen what a caller sees.

use chrono::{DateTime, Utc};
use hexgate_domain::{Page, PageRequest, Position, Slice, UserSort, UserSortKey, Window};
use uuid::Uuid;

use crate::{CursorSealer, ServiceError};

/// A list's filter and sort, as a cursor remembers them: a 64-bit FNV-1a digest of every field,
/// each length-prefixed so that no two filters run together into the same text. A digest, not
/// the text, so that a long search term cannot make a cursor too long to send back. It needs no
/// cryptographic strength: the seal already stops forgery, and two filters that collided would
/// only let a cursor position the other list, whose rows the request's own filter still picks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    #[must_use]
    pub(crate) fn field(self, value: &str) -> Self {
        let length = value.len().to_string();
        let bytes = length.bytes().chain([b':']).chain(value.bytes()).chain([b';']);
        Self(bytes.fold(self.0, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)))
    }

    #[must_use]
    pub(crate) fn optional(self, value: Option<&str>) -> Self {
        match value {
            Some(value) => self.field("some").field(value),
            None => self.field("none"),
        }
    }
}

/// Opens and makes the cursors of one list, for one filter and sort.
pub(crate) struct Cursors<'a> {
    sealer: &'a dyn CursorSealer,
    list: &'static str,
    filter: Fingerprint,
}

impl<'a> Cursors<'a> {
    pub(crate) fn new(sealer: &'a dyn CursorSealer, list: &'static str, filter: Fingerprint) -> Self {
        Self { sealer, list, filter }
    }

    /// The rows to ask the store for; `read_key` turns a cursor's key text back into a sort key.
    ///
    /// # Errors
    /// `BadCursor` for a cursor that does not open, or was made for another list or filter.
    pub(crate) fn window<K>(
        &self,
        request: &PageRequest,
        read_key: impl FnOnce(&str) -> Option<K>,
    ) -> Result<Window<K>, ServiceError> {
        request
            .window(|cursor| {
                let payload = self.sealer.open(cursor)?;
                let (id, key) = position(&payload, self.list, self.filter)?;
                Some(Position { key: read_key(key)?, id })
            })
            .map_err(|_| ServiceError::BadCursor)
    }

    /// The page, with a sealed `next_cursor` after its last row when more follow; `position_of`
    /// gives a row's id and its sort key as text.
    pub(crate) fn page<T>(
        &self,
        slice: Slice<T>,
        request: &PageRequest,
        position_of: impl FnOnce(&T) -> (Uuid, String),
    ) -> Page<T> {
        Page::assemble(slice, request, |last| {
            let (id, key) = position_of(last);
            self.sealer.seal(&payload(self.list, self.filter, id, &key))
        })
    }
}

fn payload(list: &str, filter: Fingerprint, id: Uuid, key: &str) -> String {
    format!("v1|{list}|{:016x}|{id}|{key}", filter.0)
}

/// The id and key text of a payload made for `list` and `filter`; `None` for anything else.
fn position<'p>(payload: &'p str, list: &str, filter: Fingerprint) -> Option<(Uuid, &'p str)> {
    let mut parts = payload.splitn(5, '|');
    let (version, made_for, print, id, key) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version != "v1" || made_for != list || print != format!("{:016x}", filter.0) {
        return None;
    }
    Some((Uuid::parse_str(id).ok()?, key))
}

/// A timestamp as a cursor holds it: microseconds since the epoch, what both databases keep.
pub(crate) fn time_key(at: DateTime<Utc>) -> String {
    at.timestamp_micros().to_string()
}

pub(crate) fn read_time_key(text: &str) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(text.parse().ok()?)
}

/// A users list's sort key as a cursor holds it.
pub(crate) fn user_key(key: &UserSortKey) -> String {
    match key {
        UserSortKey::CreatedAt(at) => time_key(*at),
        UserSortKey::Username(text) | UserSortKey::Email(text) => text.clone(),
    }
}

/// The key of a list sorted by `sort` (the cursor's fingerprint has already matched the sort).
pub(crate) fn read_user_key(sort: UserSort, text: &str) -> Option<UserSortKey> {
    Some(match sort {
        UserSort::CreatedAt | UserSort::CreatedAtDesc => UserSortKey::CreatedAt(read_time_key(text)?),
        UserSort::Username | UserSort::UsernameDesc => UserSortKey::Username(text.to_owned()),
        UserSort::Email | UserSort::EmailDesc => UserSortKey::Email(text.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(q: Option<&str>, sort: &str) -> Fingerprint {
        Fingerprint::default().field(sort).optional(q)
    }

    #[test]
    fn a_payload_reads_back_only_for_its_list_and_filter() {
        let id = Uuid::now_v7();
        let made = filter(Some("ada"), "username");
        // A key may hold the separator: it comes last and is read whole.
        let text = payload("users", made, id, "o|dd@example.com");
        assert_eq!(position(&text, "users", made), Some((id, "o|dd@example.com")));
        assert_eq!(position(&text, "products", made), None, "another list");
        assert_eq!(position(&text, "users", filter(Some("ada"), "-username")), None, "another sort");
        assert_eq!(position(&text, "users", filter(Some("adb"), "username")), None, "another search");
        assert_eq!(position(&text, "users", filter(None, "username")), None, "no search");
    }

    #[test]
    fn a_changed_or_foreign_payload_is_refused() {
        let made = filter(None, "created_at");
        let good = payload("orders", made, Uuid::nil(), "1");
        for bad in [
            good.replacen("v1", "v2", 1),
            good.replacen(&Uuid::nil().to_string(), "not-a-uuid", 1),
            "v1|orders".to_owned(),
            // What the audit log seals: `v1|<listing>|<filter>|<micros>|<id>`.
            format!("v1|all|;;;;;|1700000000000000|{}", Uuid::nil()),
            String::new(),
        ] {
            assert_eq!(position(&bad, "orders", made), None, "{bad:?}");
        }
    }

    #[test]
    fn filters_that_would_run_together_as_text_differ() {
        let one = Fingerprint::default().field("ab").field("c");
        let other = Fingerprint::default().field("a").field("bc");
        assert_ne!(one, other);
        assert_ne!(Fingerprint::default().optional(None), Fingerprint::default().optional(Some("none")));
        assert_ne!(Fingerprint::default().optional(Some("")), Fingerprint::default().optional(None));
    }

    #[test]
    fn a_user_key_reads_back_under_its_sort() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_000_001).expect("at");
        for (sort, key) in [
            (UserSort::CreatedAtDesc, UserSortKey::CreatedAt(at)),
            (UserSort::Username, UserSortKey::Username("ada_1".into())),
            (UserSort::EmailDesc, UserSortKey::Email("a|b@example.com".into())),
        ] {
            assert_eq!(read_user_key(sort, &user_key(&key)), Some(key), "{sort:?}");
        }
        assert_eq!(read_user_key(UserSort::CreatedAt, "ada"), None, "a name is no time");
    }

    #[test]
    fn a_time_key_keeps_microseconds() {
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).expect("at");
        assert_eq!(read_time_key(&time_key(at)), Some(at));
        assert_eq!(read_time_key("soon"), None);
        assert_eq!(read_time_key(""), None);
    }
}
