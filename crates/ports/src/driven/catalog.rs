use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::product::{Product, ProductId, ProductUpdate};
use hexgate_domain::{Slice, Window};

use crate::PortError;

/// Where products are kept.
///
/// # Errors
/// [`PortError::NotFound`] for a missing product where one is required;
/// [`PortError::Unavailable`] when the store cannot be reached.
#[async_trait]
pub trait ProductRepository: Send + Sync {
    async fn insert(&self, product: &Product) -> Result<(), PortError>;
    async fn get(&self, id: ProductId) -> Result<Option<Product>, PortError>;
    /// Newest first (`created_at`, then id, both descending); `q` is a case-insensitive substring
    /// of the name. [`Window::After`] continues strictly after a (`created_at`, id) position and
    /// counts nothing.
    async fn list(&self, q: Option<&str>, window: Window<DateTime<Utc>>) -> Result<Slice<Product>, PortError>;
    async fn update(&self, id: ProductId, update: &ProductUpdate, now: DateTime<Utc>) -> Result<Product, PortError>;
    async fn delete(&self, id: ProductId) -> Result<(), PortError>;
}
