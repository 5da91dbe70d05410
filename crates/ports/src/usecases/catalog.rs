use std::sync::Arc;

use hexgate_domain::money::{Money, TaxRate};
use hexgate_domain::policy::can_manage_catalog;
use hexgate_domain::product::{Product, ProductId, ProductName, ProductUpdate};
use hexgate_domain::{Page, PageRequest, User};

use super::paging::{Cursors, Fingerprint, read_time_key, time_key};
use crate::{Clock, CursorSealer, PortError, ProductRepository, Resource, ServiceError};

pub struct CatalogService {
    products: Arc<dyn ProductRepository>,
    clock: Arc<dyn Clock>,
    /// Seals the list's `next_cursor`s and opens those sent back.
    cursors: Arc<dyn CursorSealer>,
}

fn not_found(err: PortError) -> ServiceError {
    match err {
        PortError::NotFound => ServiceError::NotFound(Resource::Product),
        other => other.into(),
    }
}

fn require(actor: &User) -> Result<(), ServiceError> {
    if can_manage_catalog(actor) { Ok(()) } else { Err(ServiceError::Forbidden) }
}

impl CatalogService {
    #[must_use]
    pub fn new(products: Arc<dyn ProductRepository>, clock: Arc<dyn Clock>, cursors: Arc<dyn CursorSealer>) -> Self {
        Self { products, clock, cursors }
    }

    /// A page of products, newest first, by page number or by a cursor an earlier page of the
    /// same search gave.
    ///
    /// # Errors
    /// `BadCursor`; store errors.
    pub async fn list(&self, q: Option<&str>, page: PageRequest) -> Result<Page<Product>, ServiceError> {
        let q = q.map(str::trim).filter(|q| !q.is_empty()).map(str::to_lowercase);
        let cursors = Cursors::new(&*self.cursors, "products", Fingerprint::default().optional(q.as_deref()));
        let window = cursors.window(&page, read_time_key)?;
        let slice = self.products.list(q.as_deref(), window).await?;
        Ok(cursors.page(slice, &page, |last| (last.id.0, time_key(last.created_at))))
    }

    /// # Errors
    /// `NotFound`.
    pub async fn get(&self, id: ProductId) -> Result<Product, ServiceError> {
        self.products.get(id).await?.ok_or(ServiceError::NotFound(Resource::Product))
    }

    /// # Errors
    /// `Forbidden` without the catalog grant.
    pub async fn create(
        &self,
        actor: &User,
        name: ProductName,
        price: Money,
        tax_rate: TaxRate,
    ) -> Result<Product, ServiceError> {
        require(actor)?;
        let now = self.clock.now();
        let product = Product { id: ProductId::new(), name, price, tax_rate, created_at: now, updated_at: now };
        self.products.insert(&product).await?;
        Ok(product)
    }

    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn update(&self, actor: &User, id: ProductId, update: ProductUpdate) -> Result<Product, ServiceError> {
        require(actor)?;
        self.products.update(id, &update, self.clock.now()).await.map_err(not_found)
    }

    /// # Errors
    /// `Forbidden`, `NotFound`.
    pub async fn delete(&self, actor: &User, id: ProductId) -> Result<(), ServiceError> {
        require(actor)?;
        self.products.delete(id).await.map_err(not_found)
    }
}
