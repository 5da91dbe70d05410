//! The request decoders: every JSON body and query string the API reads, from raw bytes, through
//! the same schema check, stand-ins and domain parsing the extractors run. Never a panic; every
//! refusal names its fields under `body.` or `query.` with a code (checked in the entry points).
#![no_main]

use hexgate_actix_http::fuzzing::{self, Outcome};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else { return };
    if kind & 0x80 == 0 {
        let _ = fuzzing::json_body(kind, rest);
    } else if let Ok(query) = std::str::from_utf8(rest) {
        // A query decoder never answers "malformed": every byte string is some query.
        assert_ne!(fuzzing::query(kind, query), Outcome::Malformed);
    }
});
