use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use thiserror::Error;
use uuid::Uuid;

use crate::RuleViolation;
use crate::money::{Money, TaxRate, price_with_tax};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductId(pub Uuid);

impl ProductId {
    #[must_use]
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }
}

impl Default for ProductId {
    fn default() -> Self {
        Self::new()
    }
}

/// 1..=200 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductName(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProductNameError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
}

impl RuleViolation for ProductNameError {
    fn code(&self) -> &'static str {
        match self {
            Self::Empty => "product_name_empty",
            Self::TooLong { .. } => "product_name_too_long",
            Self::ControlCharacter => "product_name_control_character",
        }
    }
}

impl ProductName {
    pub const MAX_LEN: usize = 200;
    /// The rule as a JSON Schema `pattern` (ECMA-262), for the published document: white space
    /// may surround the name, at least one other character remains, and none is a control.
    pub const PATTERN: &'static str = crate::text::VISIBLE_NAME_PATTERN;

    /// # Errors
    /// [`ProductNameError`] naming the rule the input breaks.
    pub fn parse(raw: &str) -> Result<Self, ProductNameError> {
        // Counted as sent, so the published `maxLength` and this rule agree on every input.
        if raw.chars().count() > Self::MAX_LEN {
            return Err(ProductNameError::TooLong { max: Self::MAX_LEN });
        }
        let value = raw.trim();
        if value.is_empty() {
            return Err(ProductNameError::Empty);
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(ProductNameError::TooLong { max: Self::MAX_LEN });
        }
        if value.chars().any(char::is_control) {
            return Err(ProductNameError::ControlCharacter);
        }
        Ok(Self(value.to_owned()))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    pub id: ProductId,
    pub name: ProductName,
    pub price: Money,
    pub tax_rate: TaxRate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Product {
    #[must_use]
    pub fn price_with_tax(&self) -> Decimal {
        price_with_tax(self.price, self.tax_rate)
    }
}

/// A partial change to a product.
#[derive(Debug, Clone, Default)]
pub struct ProductUpdate {
    pub name: Option<ProductName>,
    pub price: Option<Money>,
    pub tax_rate: Option<TaxRate>,
}

impl ProductUpdate {
    #[must_use]
    pub fn apply(&self, product: &Product, now: DateTime<Utc>) -> Product {
        Product {
            name: self.name.clone().unwrap_or_else(|| product.name.clone()),
            price: self.price.unwrap_or(product.price),
            tax_rate: self.tax_rate.unwrap_or(product.tax_rate),
            updated_at: now,
            ..product.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(ProductName::parse("  Lamp ").expect("ok").as_str(), "Lamp");
        assert_eq!(ProductName::parse("   "), Err(ProductNameError::Empty));
        assert!(ProductName::parse(&"x".repeat(200)).is_ok());
        assert_eq!(ProductName::parse(&"x".repeat(201)), Err(ProductNameError::TooLong { max: 200 }));
        assert_eq!(ProductName::parse(&format!(" {} ", "x".repeat(199))), Err(ProductNameError::TooLong { max: 200 }));
    }
}
