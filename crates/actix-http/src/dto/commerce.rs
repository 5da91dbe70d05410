//! Products, orders, preferences. Money travels as JSON numbers with at most two decimals; it is
//! turned into an exact decimal through its shortest decimal text, never used as a float.

use apistos::ApiComponent;
use apistos::schemars::JsonSchema;
use chrono::{DateTime, Utc};
use garde::Validate;
use hexgate_domain::money::{Money, MoneyError, TaxRate, TaxRateError};
use hexgate_domain::order::{Order, OrderItem};
use hexgate_domain::preferences::{Language, Preferences, Theme};
use hexgate_domain::product::{Product, ProductName};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::UserResponse;
use hexgate_domain::order::{DateRange, OrderLine};
use hexgate_domain::product::{ProductId, ProductUpdate};
use hexgate_domain::{PageRequest, UserId};
use hexgate_ports::FieldViolation;

use crate::extract::{IntoDomain, Rules};

/// A JSON number as the exact decimal it was written as (`19.99`, not 19.989999…).
/// The exact decimal a JSON number stands for, through its shortest text (`19.99`, never the
/// binary float's `19.989999…`). A number whose decimal form does not fit exactly (more than 28
/// decimals, as `2.5e-42` has, or too large) is refused, never silently rounded.
fn decimal_of(value: f64) -> Result<Decimal, Inexact> {
    if !value.is_finite() {
        return Err(Inexact::NotANumber);
    }
    Decimal::from_str_exact(&value.to_string())
        .map_err(|_| if value.abs() >= 1.0 { Inexact::TooLarge } else { Inexact::TooPrecise })
}

enum Inexact {
    NotANumber,
    TooLarge,
    TooPrecise,
}

pub(crate) fn money_of(value: f64) -> Result<Money, MoneyError> {
    decimal_of(value)
        .map_err(|e| match e {
            Inexact::NotANumber => MoneyError::NotANumber,
            Inexact::TooLarge => MoneyError::TooLarge,
            Inexact::TooPrecise => MoneyError::TooPrecise,
        })
        .and_then(Money::new)
}

pub(crate) fn tax_rate_of(value: f64) -> Result<TaxRate, TaxRateError> {
    decimal_of(value)
        .map_err(|e| match e {
            Inexact::NotANumber | Inexact::TooLarge => TaxRateError::OutOfRange,
            Inexact::TooPrecise => TaxRateError::TooPrecise,
        })
        .and_then(TaxRate::new)
}

fn number(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

const fn default_tax_rate() -> f64 {
    0.1
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"name": "Desk lamp", "price": 19.99, "tax_rate": 0.2}))]
#[garde(allow_unvalidated)]
pub struct ProductCreate {
    #[schemars(extend("pattern" = ProductName::PATTERN), length(min = 1, max = 200))]
    pub name: String,
    /// ≥ 0, at most two decimals.
    #[schemars(range(min = 0), extend("multipleOf" = 0.01, "exclusiveMaximum" = 10_000_000_000.0))]
    pub price: f64,
    /// 0..=1, default 0.1.
    #[serde(default = "default_tax_rate")]
    #[schemars(range(min = 0, max = 1), extend("multipleOf" = 0.0001))]
    pub tax_rate: f64,
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"price": 17.5}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct ProductPatch {
    #[schemars(extend("pattern" = ProductName::PATTERN), length(min = 1, max = 200))]
    pub name: Option<String>,
    #[schemars(range(min = 0), extend("multipleOf" = 0.01, "exclusiveMaximum" = 10_000_000_000.0))]
    pub price: Option<f64>,
    #[schemars(range(min = 0, max = 1), extend("multipleOf" = 0.0001))]
    pub tax_rate: Option<f64>,
}

#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos", example = serde_json::json!({"id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b", "name": "Desk lamp",
    "price": 19.99, "tax_rate": 0.2, "price_with_tax": 23.99, "created_at": "2026-01-01T00:00:00Z"}))]
pub struct ProductResponse {
    pub id: Uuid,
    pub name: String,
    pub price: f64,
    pub tax_rate: f64,
    /// price × (1 + tax_rate), rounded half-even to two decimals.
    pub price_with_tax: f64,
    pub created_at: DateTime<Utc>,
}

impl From<Product> for ProductResponse {
    fn from(p: Product) -> Self {
        Self {
            id: p.id.0,
            name: p.name.as_str().to_owned(),
            price: number(p.price.amount()),
            tax_rate: number(p.tax_rate.rate()),
            price_with_tax: number(p.price_with_tax()),
            created_at: p.created_at,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos")]
#[garde(allow_unvalidated)]
pub struct ProductListQuery {
    /// ≥ 1 (default 1); a page past the end is empty. Not with `cursor`.
    #[garde(range(min = 1, max = 1_000_000))]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub page: Option<u64>,
    #[serde(default = "super::default_page_size")]
    #[garde(range(min = 1, max = 100))]
    #[schemars(range(min = 1, max = 100))]
    pub page_size: u64,
    /// A page's `next_cursor`, for the page after it (instead of `page`), with the same `q`.
    /// Opaque.
    #[garde(length(max = 1024))]
    #[schemars(length(max = 1024))]
    pub cursor: Option<String>,
    /// Substring of the name (case-insensitive).
    #[garde(length(max = 200))]
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct ProductPath {
    pub id: Uuid,
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos")]
#[garde(allow_unvalidated)]
pub struct OrderLineRequest {
    pub product_id: Uuid,
    #[garde(range(min = 1, max = 1000))]
    #[schemars(range(min = 1, max = 1000))]
    pub quantity: u32,
}

#[derive(Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"items": [{"product_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b", "quantity": 2}]}))]
#[garde(allow_unvalidated)]
pub struct OrderCreate {
    /// 1..=50 lines.
    #[garde(length(min = 1, max = 50), dive)]
    #[schemars(length(min = 1, max = 50))]
    pub items: Vec<OrderLineRequest>,
}

#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct OrderItemResponse {
    pub product_id: Uuid,
    /// The product's name when the order was placed.
    pub name: String,
    /// The product's price when the order was placed.
    pub unit_price: f64,
    pub quantity: u32,
}

#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[schemars(example = serde_json::json!({"id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7c", "user_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7b",
    "items": [{"product_id": "0193a3c4-5b6e-7f80-9a1b-2c3d4e5f6a7d", "name": "Desk lamp", "unit_price": 19.99, "quantity": 2}],
    "total": 39.98, "status": "pending", "created_at": "2026-01-01T00:00:00Z"}))]
pub struct OrderResponse {
    pub id: Uuid,
    pub user_id: Uuid,
    pub items: Vec<OrderItemResponse>,
    /// Σ unit_price × quantity, before tax.
    pub total: f64,
    pub status: OrderStatusName,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[serde(rename_all = "snake_case")]
pub enum OrderStatusName {
    Pending,
    Cancelled,
}

impl From<Order> for OrderResponse {
    fn from(o: Order) -> Self {
        let total = number(o.total());
        Self {
            id: o.id.0,
            user_id: o.user_id.as_uuid(),
            items: o
                .items
                .into_iter()
                .map(|i: OrderItem| OrderItemResponse {
                    product_id: i.product_id.0,
                    name: i.name,
                    unit_price: number(i.unit_price.amount()),
                    quantity: i.quantity,
                })
                .collect(),
            total,
            status: match o.status {
                hexgate_domain::order::OrderStatus::Pending => OrderStatusName::Pending,
                hexgate_domain::order::OrderStatus::Cancelled => OrderStatusName::Cancelled,
            },
            created_at: o.created_at,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos")]
#[garde(allow_unvalidated)]
pub struct OrderListQuery {
    /// ≥ 1 (default 1); a page past the end is empty. Not with `cursor`.
    #[garde(range(min = 1, max = 1_000_000))]
    #[schemars(range(min = 1, max = 1_000_000))]
    pub page: Option<u64>,
    #[serde(default = "super::default_page_size")]
    #[garde(range(min = 1, max = 100))]
    #[schemars(range(min = 1, max = 100))]
    pub page_size: u64,
    /// A page's `next_cursor`, for the page after it (instead of `page`), with the same
    /// `user_id`, `start_date` and `end_date`. Opaque.
    #[garde(length(max = 1024))]
    #[schemars(length(max = 1024))]
    pub cursor: Option<String>,
    /// Admins only: one user's orders.
    pub user_id: Option<Uuid>,
    /// Orders created at or after (RFC 3339); must be before `end_date` when both are given.
    pub start_date: Option<DateTime<Utc>>,
    /// Orders created before (RFC 3339).
    pub end_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct OrderPath {
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
#[serde(rename_all = "snake_case")]
pub enum ThemeName {
    Light,
    Dark,
    System,
}

/// A user's preferences (all three fields; PUT replaces them).
#[derive(Serialize, Deserialize, JsonSchema, ApiComponent, Validate)]
#[schemars(crate = "apistos", example = serde_json::json!({"theme": "dark", "language": "en", "notifications_enabled": true}))]
#[serde(deny_unknown_fields)]
#[garde(allow_unvalidated)]
pub struct PreferencesBody {
    pub theme: ThemeName,
    /// A language tag such as `en` or `pt-BR`.
    #[schemars(length(min = 2, max = 35), extend("pattern" = "^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"))]
    pub language: String,
    pub notifications_enabled: bool,
}

impl IntoDomain for PreferencesBody {
    type Domain = Preferences;

    fn into_domain(self) -> Result<Preferences, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let language = rules.check("language", Language::parse(&self.language));
        let theme = match self.theme {
            ThemeName::Light => Theme::Light,
            ThemeName::Dark => Theme::Dark,
            ThemeName::System => Theme::System,
        };
        rules.finish(|| {
            Some(Preferences { theme, language: language?, notifications_enabled: self.notifications_enabled })
        })
    }
}

impl From<Preferences> for PreferencesBody {
    fn from(p: Preferences) -> Self {
        Self {
            theme: match p.theme {
                Theme::Light => ThemeName::Light,
                Theme::Dark => ThemeName::Dark,
                Theme::System => ThemeName::System,
            },
            language: p.language.as_str().to_owned(),
            notifications_enabled: p.notifications_enabled,
        }
    }
}

/// A user with their newest orders (at most 100) and their preferences (`null` when never set).
#[derive(Serialize, JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct RelatedResponse {
    pub user: UserResponse,
    pub orders: Vec<OrderResponse>,
    pub preferences: Option<PreferencesBody>,
}

/// A new product as the use case takes it.
pub(crate) struct ProductDraft {
    pub name: ProductName,
    pub price: Money,
    pub tax_rate: TaxRate,
}

impl IntoDomain for ProductCreate {
    type Domain = ProductDraft;

    fn into_domain(self) -> Result<ProductDraft, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let name = rules.check("name", ProductName::parse(&self.name));
        let price = rules.check("price", money_of(self.price));
        let tax_rate = rules.check("tax_rate", tax_rate_of(self.tax_rate));
        rules.finish(|| Some(ProductDraft { name: name?, price: price?, tax_rate: tax_rate? }))
    }
}

impl IntoDomain for ProductPatch {
    type Domain = ProductUpdate;

    fn into_domain(self) -> Result<ProductUpdate, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let name = rules.check_optional("name", self.name.as_deref().map(ProductName::parse));
        let price = rules.check_optional("price", self.price.map(money_of));
        let tax_rate = rules.check_optional("tax_rate", self.tax_rate.map(tax_rate_of));
        rules.finish(|| Some(ProductUpdate { name: name?, price: price?, tax_rate: tax_rate? }))
    }
}

impl IntoDomain for OrderCreate {
    type Domain = Vec<OrderLine>;

    fn into_domain(self) -> Result<Vec<OrderLine>, Vec<FieldViolation>> {
        Ok(self.items.iter().map(|l| OrderLine { product_id: ProductId(l.product_id), quantity: l.quantity }).collect())
    }
}

/// A products list query as the use case takes it.
pub(crate) struct ProductListing {
    pub page: PageRequest,
    pub q: Option<String>,
}

impl IntoDomain for ProductListQuery {
    type Domain = ProductListing;

    fn into_domain(self) -> Result<ProductListing, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let page = super::page_request(&mut rules, self.page, self.page_size, self.cursor);
        rules.finish(|| Some(ProductListing { page: page?, q: self.q }))
    }
}

/// An orders list query as the use case takes it.
pub(crate) struct OrderListing {
    pub page: PageRequest,
    pub user: Option<UserId>,
    pub created: DateRange,
}

impl IntoDomain for OrderListQuery {
    type Domain = OrderListing;

    fn into_domain(self) -> Result<OrderListing, Vec<FieldViolation>> {
        let mut rules = Rules::default();
        let page = super::page_request(&mut rules, self.page, self.page_size, self.cursor);
        // The rule concerns both ends: each is named, so a form can mark both.
        let created = match DateRange::new(self.start_date, self.end_date) {
            Ok(range) => Some(range),
            Err(e) => {
                rules.absorb(vec![FieldViolation::rule("start_date", &e), FieldViolation::rule("end_date", &e)]);
                None
            }
        };
        rules
            .finish(|| Some(OrderListing { page: page?, user: self.user_id.map(UserId::from_uuid), created: created? }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_written_with_an_exponent_or_a_long_fraction_is_refused_not_rounded() {
        assert_eq!(money_of(2.589_041_988_477_783_3e-42).err(), Some(MoneyError::TooPrecise));
        assert_eq!(money_of(1e-3).err(), Some(MoneyError::TooPrecise));
        assert_eq!(money_of(0.123_456_789_012_345_67).err(), Some(MoneyError::TooPrecise));
        assert_eq!(money_of(1e30).err(), Some(MoneyError::TooLarge));
        assert_eq!(money_of(1.5e2).ok(), Money::new(Decimal::from(150)).ok());
        assert_eq!(money_of(19.99).ok(), Money::new(Decimal::new(1999, 2)).ok());
        assert_eq!(tax_rate_of(2.5e-40).err(), Some(TaxRateError::TooPrecise));
        assert!(tax_rate_of(0.2).is_ok());
    }

    #[test]
    fn the_published_name_pattern_accepts_exactly_what_the_domain_accepts() {
        let schema = serde_json::json!({"type": "string", "pattern": ProductName::PATTERN});
        let validator = jsonschema::validator_for(&schema).expect("the pattern compiles");
        for sample in [
            "Lamp",
            "  Desk lamp  ",
            "\tLamp\n",
            "A\tB",
            "\u{85}Lamp",
            "Lamp\u{1}",
            "\u{7f}",
            " ",
            "\u{a0}",
            "",
            "\u{3000}Lamp\u{3000}",
            "Zoë Ø",
            "a\r\nb",
        ] {
            assert_eq!(
                validator.is_valid(&serde_json::json!(sample)),
                ProductName::parse(sample).is_ok(),
                "{sample:?}"
            );
            // API-key, organization and passkey names publish the same pattern for the same rule.
            assert_eq!(
                validator.is_valid(&serde_json::json!(sample)),
                hexgate_domain::api_key::ApiKeyName::parse(sample).is_ok(),
                "{sample:?}"
            );
            assert_eq!(
                validator.is_valid(&serde_json::json!(sample)),
                hexgate_domain::org::OrgName::parse(sample).is_ok(),
                "{sample:?}"
            );
            assert_eq!(
                validator.is_valid(&serde_json::json!(sample)),
                hexgate_domain::passkey::PasskeyName::parse(sample).is_ok(),
                "{sample:?}"
            );
        }
    }
}
