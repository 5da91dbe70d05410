use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::product::{Product, ProductId, ProductUpdate};
use hexgate_domain::{Slice, Window};
use hexgate_ports::{PortError, ProductRepository};

use super::InMemoryStore;
use super::window::cut;

#[async_trait]
impl ProductRepository for InMemoryStore {
    async fn insert(&self, product: &Product) -> Result<(), PortError> {
        let mut state = self.lock();
        if state.products.contains_key(&product.id) {
            return Err(PortError::Internal(format!("unique violation: products.id {}", product.id.0)));
        }
        state.products.insert(product.id, product.clone());
        Ok(())
    }

    async fn get(&self, id: ProductId) -> Result<Option<Product>, PortError> {
        Ok(self.lock().products.get(&id).cloned())
    }

    async fn list(&self, q: Option<&str>, window: Window<DateTime<Utc>>) -> Result<Slice<Product>, PortError> {
        let q = q.map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
        let products: Vec<Product> = self
            .lock()
            .products
            .values()
            .filter(|p| q.as_deref().is_none_or(|q| p.name.as_str().to_lowercase().contains(q)))
            .cloned()
            .collect();
        // Newest first, ties by id (descending), as the SQL adapter orders them.
        Ok(cut(products, window, true, |p| (p.created_at, p.id.0)))
    }

    async fn update(&self, id: ProductId, update: &ProductUpdate, now: DateTime<Utc>) -> Result<Product, PortError> {
        let mut state = self.lock();
        let product = state.products.get_mut(&id).ok_or(PortError::NotFound)?;
        *product = update.apply(product, now);
        Ok(product.clone())
    }

    async fn delete(&self, id: ProductId) -> Result<(), PortError> {
        self.lock().products.remove(&id).map(|_| ()).ok_or(PortError::NotFound)
    }
}
