//! The one conversion from a request's DTO to the domain values a use case takes.

use hexgate_domain::RuleViolation;
use hexgate_ports::FieldViolation;

/// A decoded request part that becomes domain values in one step, reporting every rule its
/// fields break (named by their path inside the part: `email`, `3.password`). The extractors call
/// it once; handlers receive `Domain` and never parse again.
pub(crate) trait IntoDomain: Sized {
    type Domain;

    /// # Errors
    /// Every rule the fields break.
    fn into_domain(self) -> Result<Self::Domain, Vec<FieldViolation>>;
}

/// Parts that are already what the use case takes (no rule beyond their types).
macro_rules! as_is {
    ($($t:ty),* $(,)?) => {
        $(impl $crate::extract::IntoDomain for $t {
            type Domain = Self;
            fn into_domain(self) -> Result<Self, Vec<hexgate_ports::FieldViolation>> {
                Ok(self)
            }
        })*
    };
}
pub(crate) use as_is;

/// Collects the rule violations of one conversion, so that every field is checked.
#[derive(Debug, Default)]
pub(crate) struct Rules {
    violations: Vec<FieldViolation>,
    prefix: String,
}

impl Rules {
    /// Fields named under `prefix` (an item of a list: `3`).
    pub(crate) fn under(prefix: impl std::fmt::Display) -> Self {
        Self { violations: Vec::new(), prefix: format!("{prefix}.") }
    }

    /// The parsed value, or `None` with the violation recorded against `field`.
    pub(crate) fn check<T, E: RuleViolation + std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Result<T, E>,
    ) -> Option<T> {
        parsed.map_err(|e| self.violations.push(FieldViolation::rule(format!("{}{field}", self.prefix), &e))).ok()
    }

    /// Like [`check`](Self::check) for a field that may be absent.
    pub(crate) fn check_optional<T, E: RuleViolation + std::fmt::Display>(
        &mut self,
        field: &str,
        parsed: Option<Result<T, E>>,
    ) -> Option<Option<T>> {
        match parsed {
            None => Some(None),
            Some(result) => self.check(field, result).map(Some),
        }
    }

    pub(crate) fn into_violations(self) -> Vec<FieldViolation> {
        self.violations
    }

    pub(crate) fn absorb(&mut self, mut other: Vec<FieldViolation>) {
        self.violations.append(&mut other);
    }

    /// The value `build` makes from the parsed parts, or every violation recorded.
    ///
    /// # Errors
    /// The violations, when there are any.
    pub(crate) fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<FieldViolation>> {
        if !self.violations.is_empty() {
            return Err(self.violations);
        }
        // No violation means every part parsed; `build` sees only `Some`s.
        build().ok_or(self.violations)
    }
}
