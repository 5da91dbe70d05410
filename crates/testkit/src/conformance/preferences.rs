//! [`PreferencesRepository`](hexgate_ports::PreferencesRepository): one record per user, replaced
//! whole, refused for a user who does not exist.

use hexgate_domain::UserId;
use hexgate_domain::preferences::{Language, Preferences, Theme};
use hexgate_ports::PortError;

use super::support::{now, stored_user};
use crate::Storage;

pub async fn preferences_are_kept_per_user_and_replaced_whole(s: Storage) {
    let (u, v) = (stored_user(&s, "picky").await, stored_user(&s, "easy").await);
    assert_eq!(s.preferences.get(u.id).await.expect("get"), None, "nothing stored yet");
    let dark = Preferences {
        theme: Theme::Dark,
        language: Language::parse("pt-BR").expect("l"),
        notifications_enabled: false,
    };
    s.preferences.put(u.id, &dark, now()).await.expect("put");
    assert_eq!(s.preferences.get(u.id).await.expect("get"), Some(dark));
    let light = Preferences { theme: Theme::Light, ..Preferences::default() };
    s.preferences.put(u.id, &light, now()).await.expect("put again");
    assert_eq!(s.preferences.get(u.id).await.expect("get"), Some(light), "replaced whole");
    assert_eq!(s.preferences.get(v.id).await.expect("get"), None, "per user");
}

pub async fn preferences_of_a_missing_user_are_refused(s: Storage) {
    let ghost = UserId::new();
    let outcome = s.preferences.put(ghost, &Preferences::default(), now()).await;
    assert!(matches!(outcome, Err(PortError::NotFound)), "{outcome:?}");
    assert_eq!(s.preferences.get(ghost).await.expect("get"), None);
}
