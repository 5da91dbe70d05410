use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::product::{Product, ProductId, ProductUpdate};
use hexgate_domain::{Page, PageRequest};
use hexgate_ports::{PortError, ProductRepository};

use super::InMemoryStore;

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

    async fn list(&self, q: Option<&str>, page: PageRequest) -> Result<Page<Product>, PortError> {
        let q = q.map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
        let mut products: Vec<Product> = self
            .lock()
            .products
            .values()
            .filter(|p| q.as_deref().is_none_or(|q| p.name.as_str().to_lowercase().contains(q)))
            .cloned()
            .collect();
        // Newest first, ties by id (descending), as the SQL adapter orders them.
        products.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let total = products.len() as u64;
        let items = products
            .into_iter()
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(usize::try_from(page.page_size()).unwrap_or(0))
            .collect();
        Ok(Page::new(items, total, page))
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
