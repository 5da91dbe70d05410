//! The upload filename sanitiser: whatever a client names its file, the stored metadata is a
//! harmless display name (no path, no control characters or quotes, no leading dot, at most 255
//! bytes, never empty), and sanitising it again changes nothing.
#![no_main]

use hexgate_domain::file::OriginalFilename;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let name = OriginalFilename::sanitize(raw);
    let s = name.as_str();
    assert!(!s.is_empty());
    assert!(s.len() <= OriginalFilename::MAX_BYTES);
    assert!(!s.contains(['/', '\\', '"', '<', '>', '|', '*', '?', ':']), "{s:?}");
    assert!(!s.chars().any(char::is_control), "{s:?}");
    assert!(!s.starts_with('.'), "{s:?}");
    assert_ne!(s, "..");
    assert_eq!(OriginalFilename::sanitize(s), name, "sanitising twice changed {s:?}");
});
