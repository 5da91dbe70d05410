//! Exact decimal money. Prices are never binary floats in storage or arithmetic.

use std::fmt;
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use thiserror::Error;

use crate::RuleViolation;

/// A non-negative amount with at most two decimals, below 10^10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    #[error("must not be negative")]
    Negative,
    #[error("must have at most 2 decimals")]
    TooPrecise,
    #[error("must be less than 10000000000")]
    TooLarge,
    #[error("must be a decimal number")]
    NotANumber,
}

impl RuleViolation for MoneyError {
    fn code(&self) -> &'static str {
        match self {
            Self::Negative => "money_negative",
            Self::TooPrecise => "money_too_precise",
            Self::TooLarge => "money_too_large",
            Self::NotANumber => "money_invalid",
        }
    }
}

impl Money {
    pub const ZERO: Self = Self(Decimal::ZERO);
    const LIMIT: Decimal = Decimal::from_parts(1_410_065_408, 2, 0, false, 0); // 10^10

    /// # Errors
    /// [`MoneyError`] for a negative, over-precise or too-large amount.
    pub fn new(amount: Decimal) -> Result<Self, MoneyError> {
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(MoneyError::Negative);
        }
        if amount.normalize().scale() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        if amount >= Self::LIMIT {
            return Err(MoneyError::TooLarge);
        }
        Ok(Self(amount.round_dp(2)))
    }

    /// Parses the decimal text of an amount (`"19.99"`).
    ///
    /// # Errors
    /// As [`Money::new`], or `NotANumber`.
    pub fn parse(text: &str) -> Result<Self, MoneyError> {
        Self::new(Decimal::from_str(text.trim()).map_err(|_| MoneyError::NotANumber)?)
    }

    #[must_use]
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// `self × quantity`, exact.
    #[must_use]
    pub fn times(self, quantity: u32) -> Decimal {
        self.0 * Decimal::from(quantity)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2}", self.0)
    }
}

/// A tax rate between 0 and 1 inclusive, at most 4 decimals (`0.0825`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaxRate(Decimal);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TaxRateError {
    #[error("must be between 0 and 1")]
    OutOfRange,
    #[error("must have at most 4 decimals")]
    TooPrecise,
}

impl RuleViolation for TaxRateError {
    fn code(&self) -> &'static str {
        match self {
            Self::OutOfRange => "tax_rate_out_of_range",
            Self::TooPrecise => "tax_rate_too_precise",
        }
    }
}

impl TaxRate {
    /// # Errors
    /// [`TaxRateError`] outside 0..=1 or with more than 4 decimals.
    pub fn new(rate: Decimal) -> Result<Self, TaxRateError> {
        if rate < Decimal::ZERO || rate > Decimal::ONE {
            return Err(TaxRateError::OutOfRange);
        }
        if rate.normalize().scale() > 4 {
            return Err(TaxRateError::TooPrecise);
        }
        Ok(Self(rate))
    }

    /// The contract's default, 0.1.
    #[must_use]
    pub fn default_rate() -> Self {
        Self(Decimal::new(1, 1))
    }

    #[must_use]
    pub fn rate(self) -> Decimal {
        self.0
    }
}

/// `price × (1 + tax_rate)`, rounded half-even (banker's rounding) to cents.
#[must_use]
pub fn price_with_tax(price: Money, tax: TaxRate) -> Decimal {
    (price.0 * (Decimal::ONE + tax.0)).round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    #[test]
    fn price_with_tax_rounds_half_to_even() {
        // (price, rate, expected): the .005 cases go to the even cent.
        let table = [
            ("10.00", "0.1", "11.00"),
            ("19.99", "0.2", "23.99"), // 23.988 -> 23.99
            ("0.05", "0.1", "0.06"),   // 0.055 -> 0.06 (6 is even)
            ("0.15", "0.1", "0.16"),   // 0.165 -> 0.16 (6 is even)
            ("0.25", "0.1", "0.28"),   // 0.275 -> 0.28
            ("0.35", "0.1", "0.38"),   // 0.385 -> 0.38
            ("1.05", "0.5", "1.58"),   // 1.575 -> 1.58
            ("1.15", "0.5", "1.72"),   // 1.725 -> 1.72
            ("0.01", "0.5", "0.02"),   // 0.015 -> 0.02
            ("0.03", "0.5", "0.04"),   // 0.045 -> 0.04
            ("99.99", "1", "199.98"),
            ("0", "0.1", "0.00"),
            ("12.34", "0", "12.34"),
        ];
        for (price, rate, expected) in table {
            let got = price_with_tax(Money::parse(price).expect("price"), TaxRate::new(d(rate)).expect("rate"));
            assert_eq!(got, d(expected), "{price} x (1 + {rate})");
        }
    }

    #[test]
    fn money_bounds() {
        assert_eq!(Money::parse("-0.01"), Err(MoneyError::Negative));
        assert_eq!(Money::parse("1.005"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse("10000000000"), Err(MoneyError::TooLarge));
        assert_eq!(Money::parse("abc"), Err(MoneyError::NotANumber));
        assert!(Money::parse("9999999999.99").is_ok());
        assert!(Money::parse("0").is_ok());
        assert_eq!(Money::parse("1.50").expect("ok").to_string(), "1.50");
        // Trailing zeros beyond two decimals are still two decimals.
        assert!(Money::parse("1.500").is_ok());
    }

    #[test]
    fn tax_rate_bounds() {
        assert!(TaxRate::new(d("0")).is_ok() && TaxRate::new(d("1")).is_ok());
        assert_eq!(TaxRate::new(d("1.01")), Err(TaxRateError::OutOfRange));
        assert_eq!(TaxRate::new(d("-0.1")), Err(TaxRateError::OutOfRange));
        assert_eq!(TaxRate::new(d("0.12345")), Err(TaxRateError::TooPrecise));
    }
}
