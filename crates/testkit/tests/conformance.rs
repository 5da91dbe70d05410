//! The conformance suite on the in-memory store: the reference every other adapter is held to,
//! and the proof that the service tests' fake behaves as the SQL adapter does.

use hexgate_testkit::InMemoryStore;
use hexgate_testkit::conformance::Check;

async fn in_memory(check: Check) {
    check(InMemoryStore::storage()).await;
}

hexgate_testkit::conformance_tests!(in_memory);
