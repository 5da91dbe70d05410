//! Rules shared by the free-text names people give things (a product, an API key).

/// A visible name as a JSON Schema `pattern` (ECMA-262), for the published document: white space
/// may surround the name, at least one other character remains, and none is a control character.
/// It states exactly what `str::trim` followed by "non-empty, no `char::is_control`" accepts.
pub const VISIBLE_NAME_PATTERN: &str = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u001F\u007F-\u009F\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";

/// Declares a name people give a thing (an API key, an organization, a passkey): a newtype that
/// holds only a visible name of at most `$max` characters, trimmed, with no control character;
/// its error enum (`Empty`, `TooLong`, `Control`) with stable codes `<prefix>_empty`,
/// `<prefix>_too_long`, `<prefix>_control`; and `PATTERN`, the same rule for the published
/// document. The length is counted as sent too, so the document's `maxLength` and the rule agree.
macro_rules! visible_name {
    ($(#[$doc:meta])* $name:ident, $error:ident, $prefix:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        #[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
        pub enum $error {
            #[error("must not be empty")]
            Empty,
            #[error("must be at most {max} characters")]
            TooLong { max: usize },
            #[error("must not contain control characters")]
            Control,
        }

        impl $crate::RuleViolation for $error {
            fn code(&self) -> &'static str {
                match self {
                    Self::Empty => concat!($prefix, "_empty"),
                    Self::TooLong { .. } => concat!($prefix, "_too_long"),
                    Self::Control => concat!($prefix, "_control"),
                }
            }
        }

        impl $name {
            pub const MAX: usize = $max;
            /// The rule as a JSON Schema `pattern`, for the published document.
            pub const PATTERN: &'static str = $crate::text::VISIBLE_NAME_PATTERN;

            /// # Errors
            /// The rule the name breaks.
            pub fn parse(raw: &str) -> Result<Self, $error> {
                if raw.chars().count() > Self::MAX {
                    return Err($error::TooLong { max: Self::MAX });
                }
                let name = raw.trim();
                if name.is_empty() {
                    return Err($error::Empty);
                }
                if name.chars().any(char::is_control) {
                    return Err($error::Control);
                }
                Ok(Self(name.to_owned()))
            }

            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use visible_name;
