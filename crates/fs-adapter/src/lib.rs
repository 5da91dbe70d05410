//! The local-filesystem file store: uploads streamed to `UPLOAD_DIR/{owner}/{file}`, names made
//! from ids only, written under a temporary name and renamed into place when complete.

mod inspect;
mod store;

pub use store::LocalFileStore;
