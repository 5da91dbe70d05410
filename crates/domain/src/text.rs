//! Rules shared by the free-text names people give things (a product, an API key).

/// A visible name as a JSON Schema `pattern` (ECMA-262), for the published document: white space
/// may surround the name, at least one other character remains, and none is a control character.
/// It states exactly what `str::trim` followed by "non-empty, no `char::is_control`" accepts.
pub const VISIBLE_NAME_PATTERN: &str = r"^[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u001F\u007F-\u009F]*[^\u0000-\u001F\u007F-\u009F\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F-\u009F]*[\t\n\u000B\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$";
