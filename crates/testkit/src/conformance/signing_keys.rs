//! [`SigningKeyRepository`](hexgate_ports::SigningKeyRepository): one active key, also when
//! instances race to make the first one or to rotate; rotated keys stay live until retired;
//! bytes come back as written.

use chrono::{DateTime, Duration, Utc};
use hexgate_ports::SigningKeyRecord;

use super::support::{now, race};
use crate::Storage;

/// A key named `kid`, made at `at`, with recognisable bytes (not a real key: the store does not
/// look inside).
fn key(kid: &str, at: DateTime<Utc>) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.to_owned(),
        algorithm: "EdDSA".to_owned(),
        public_key: kid.bytes().chain([0u8, 255, 1]).collect(),
        sealed_private_key: [1u8, 0, 255].iter().copied().chain(kid.bytes().rev()).collect(),
        created_at: at,
        rotated_at: None,
        retired_at: None,
    }
}

fn kids(keys: &[SigningKeyRecord]) -> Vec<&str> {
    keys.iter().map(|k| k.kid.as_str()).collect()
}

pub async fn a_key_round_trips_and_the_first_key_is_made_once(s: Storage) {
    let t0 = now();
    assert!(s.signing_keys.live().await.expect("live").is_empty(), "a fresh store has no key");
    let first = key("first", t0);
    assert!(s.signing_keys.create_first(&first).await.expect("create"), "the first key is stored");
    assert!(
        !s.signing_keys.create_first(&key("second", t0 + Duration::seconds(1))).await.expect("create"),
        "a second first key is refused while one is active"
    );
    let live = s.signing_keys.live().await.expect("live");
    assert_eq!(live, vec![first.clone()], "bytes and times come back as written");
    assert!(live[0].is_active());
    assert_eq!(s.signing_keys.list().await.expect("list"), vec![first]);
}

pub async fn instances_racing_to_make_the_first_key_leave_exactly_one(s: Storage) {
    let t0 = now();
    let outcomes = race(6, |i| {
        let keys = s.signing_keys.clone();
        async move { keys.create_first(&key(&format!("racer-{i}"), t0)).await.expect("create") }
    })
    .await;
    assert_eq!(outcomes.iter().filter(|made| **made).count(), 1, "one instance makes the key: {outcomes:?}");
    let live = s.signing_keys.live().await.expect("live");
    assert_eq!(live.len(), 1, "{:?}", kids(&live));
    assert!(live[0].is_active());
}

pub async fn rotation_hands_signing_to_the_new_key_and_keeps_the_old_one_live(s: Storage) {
    let t0 = now();
    s.signing_keys.create_first(&key("k1", t0)).await.expect("create");
    let t1 = t0 + Duration::minutes(1);
    s.signing_keys.rotate(&key("k2", t1), t1).await.expect("rotate");
    let live = s.signing_keys.live().await.expect("live");
    assert_eq!(kids(&live), ["k2", "k1"], "newest first");
    assert!(live[0].is_active() && live[0].rotated_at.is_none());
    assert_eq!((live[1].is_active(), live[1].rotated_at, live[1].retired_at), (false, Some(t1), None));
}

pub async fn concurrent_rotations_leave_one_active_key_and_lose_none(s: Storage) {
    let t0 = now();
    s.signing_keys.create_first(&key("k0", t0)).await.expect("create");
    race(5, |i| {
        let keys = s.signing_keys.clone();
        let at = t0 + Duration::seconds(i64::try_from(i).expect("small") + 1);
        async move { keys.rotate(&key(&format!("r{i}"), at), at).await.expect("rotate") }
    })
    .await;
    let live = s.signing_keys.live().await.expect("live");
    assert_eq!(live.len(), 6, "every key made is kept: {:?}", kids(&live));
    assert_eq!(live.iter().filter(|k| k.is_active()).count(), 1, "exactly one active: {live:?}");
    assert!(live.iter().filter(|k| !k.is_active()).all(|k| k.rotated_at.is_some()));
}

pub async fn retirement_takes_rotated_keys_past_the_cutoff_and_never_the_active_one(s: Storage) {
    let t0 = now();
    s.signing_keys.create_first(&key("old", t0)).await.expect("create");
    let t1 = t0 + Duration::minutes(1);
    s.signing_keys.rotate(&key("middle", t1), t1).await.expect("rotate");
    let t2 = t0 + Duration::minutes(30);
    s.signing_keys.rotate(&key("new", t2), t2).await.expect("rotate");
    // `old` was rotated out at t1, `middle` at t2: a cutoff between them retires `old` only.
    let t3 = t0 + Duration::minutes(40);
    let retired = s.signing_keys.retire(t1 + Duration::minutes(5), t3).await.expect("retire");
    assert_eq!(retired, vec!["old".to_owned()]);
    assert_eq!(
        s.signing_keys.retire(t1 + Duration::minutes(5), t3).await.expect("retire"),
        Vec::<String>::new(),
        "once"
    );
    assert_eq!(kids(&s.signing_keys.live().await.expect("live")), ["new", "middle"]);
    let all = s.signing_keys.list().await.expect("list");
    assert_eq!(kids(&all), ["new", "middle", "old"], "the list keeps retired keys");
    assert_eq!(all[2].retired_at, Some(t3));
    // A cutoff far in the future retires every rotated key, still never the active one.
    let later = t0 + Duration::days(1);
    assert_eq!(s.signing_keys.retire(later, later).await.expect("retire"), vec!["middle".to_owned()]);
    let live = s.signing_keys.live().await.expect("live");
    assert_eq!(kids(&live), ["new"]);
    assert!(live[0].is_active());
}
