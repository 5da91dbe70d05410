//! Strict decoding that reports every failing field, not just the first.
//!
//! serde stops at the first error. To list them all, the value is decoded, the failing field
//! recorded, and the field replaced by a stand-in of another JSON type (or removed, for unknown
//! fields) before trying again. Stand-ins are only there to let decoding go on: garde errors on
//! them are dropped, since the field is already reported.

use std::collections::HashSet;

use garde::Validate;
use hexgate_domain::RuleViolation;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::dto::FieldError;

/// Separates a stable code from the message inside a garde error (garde errors carry one string).
const CODE_SEP: char = '\u{1f}';

/// A garde `custom` rule from a domain parser: the domain owns the rule, garde reports it.
pub(crate) fn rule<T, E: RuleViolation>(
    parse: impl Fn(&str) -> Result<T, E>,
) -> impl FnOnce(&String, &()) -> garde::Result {
    move |value, ()| parse(value).map(|_| ()).map_err(|e| garde::Error::new(format!("{}{CODE_SEP}{e}", e.code())))
}

/// Values of other JSON types to put in a failing field's place, best guesses first: what the
/// error says it expected (an enum's first variant), then one value of each JSON type, then
/// strings some common types accept (a UUID, a timestamp).
fn stand_ins(message: &str) -> Vec<Value> {
    let mut candidates = Vec::new();
    if let Some(expected) = message.split("expected one of ").nth(1).or_else(|| message.split("expected ").nth(1))
        && let Some(first) = between_backticks(expected)
    {
        candidates.push(Value::String(first));
    }
    candidates.extend([
        Value::String(String::new()),
        Value::from(0),
        Value::Bool(false),
        Value::Array(Vec::new()),
        Value::Object(Map::new()),
        Value::String("00000000-0000-0000-0000-000000000000".into()),
        Value::String("1970-01-01T00:00:00Z".into()),
    ]);
    candidates
}

fn between_backticks(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let end = start + message[start..].find('`')?;
    Some(message[start..end].to_owned())
}

fn segments(path: &serde_path_to_error::Path) -> Vec<String> {
    use serde_path_to_error::Segment;
    path.iter()
        .filter_map(|s| match s {
            Segment::Seq { index } => Some(index.to_string()),
            Segment::Map { key } => Some(key.clone()),
            Segment::Enum { variant } => Some(variant.clone()),
            Segment::Unknown => None,
        })
        .collect()
}

fn at_mut<'v>(root: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    path.iter().try_fold(root, |node, seg| match node {
        Value::Object(map) => map.get_mut(seg),
        Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
        _ => None,
    })
}

fn dotted(prefix: &str, path: &[String]) -> String {
    std::iter::once(prefix).chain(path.iter().map(String::as_str)).collect::<Vec<_>>().join(".")
}

/// A serde message without the type-system jargon a client cannot act on.
fn humanise(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    if let Some(rest) = message.strip_prefix("invalid type: ")
        && let Some((found, expected)) = rest.split_once(", expected ")
    {
        return format!("expected {}, found {}", plain_type(expected), found);
    }
    message.to_owned()
}

fn plain_type(expected: &str) -> &str {
    match expected {
        e if e.starts_with("u") || e.starts_with("i") && e.len() <= 5 => "an integer",
        "a boolean" => "a boolean",
        "a string" => "a string",
        e if e.starts_with("a sequence") => "an array",
        e if e.starts_with("struct") || e.starts_with("a map") => "an object",
        e => e,
    }
}

/// Decodes `value` into `T` and runs `T`'s garde rules, collecting every failing field under
/// `prefix` (`body`, `query`).
///
/// # Errors
/// One [`FieldError`] per failing field.
pub(crate) fn decode_json<T>(mut value: Value, prefix: &str) -> Result<T, Vec<FieldError>>
where
    T: DeserializeOwned + Validate<Context = ()>,
{
    // serde lets a struct be read from an array (fields by position), which would turn `[1, 2]`
    // into errors on `body.0`. An empty array tells whether `T` wants a list or an object.
    if value.is_array()
        && let Err(e) = T::deserialize(&Value::Array(Vec::new()))
        && e.to_string().contains("struct")
    {
        return Err(vec![FieldError {
            field: Some(prefix.to_owned()),
            message: "expected an object".to_owned(),
            code: "invalid_type".to_owned(),
        }]);
    }
    let mut errors: Vec<FieldError> = Vec::new();
    let mut stood_in: HashSet<String> = HashSet::new();
    let mut attempts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut stand_in_cache: std::collections::HashMap<String, Vec<Value>> = std::collections::HashMap::new();
    // Each round fixes one field; a body has far fewer fields than this.
    for _ in 0..256 {
        match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(decoded) => {
                if let Err(report) = decoded.validate() {
                    for (path, error) in report.iter() {
                        let field = garde_path(prefix, &path.to_string());
                        if stood_in.iter().any(|s| field == *s || field.starts_with(&format!("{s}."))) {
                            continue;
                        }
                        errors.push(field_error(field, error.message()));
                    }
                }
                return if errors.is_empty() { Ok(decoded) } else { Err(errors) };
            }
            Err(err) => {
                let mut path = segments(err.path());
                let message = err.inner().to_string();
                let (code, human, fix) = if message.starts_with("missing field") {
                    path.extend(between_backticks(&message));
                    ("missing", "field required".to_owned(), Fix::StandIn)
                } else if message.starts_with("unknown field") {
                    // serde_path_to_error already ends the path with the unknown key.
                    if let Some(name) = between_backticks(&message)
                        && path.last() != Some(&name)
                    {
                        path.push(name);
                    }
                    ("extra_forbidden", "unknown field".to_owned(), Fix::Remove)
                } else {
                    ("invalid_type", humanise(&message), Fix::StandIn)
                };
                let field = dotted(prefix, &path);
                if !errors.iter().any(|e| e.field.as_deref() == Some(field.as_str())) {
                    errors.push(FieldError { field: Some(field.clone()), message: human, code: code.to_owned() });
                }
                let applied = match fix {
                    Fix::Remove => remove(&mut value, &path),
                    Fix::StandIn => {
                        let attempt = attempts.entry(field.clone()).or_insert(0);
                        let candidates = stand_in_cache.entry(field.clone()).or_insert_with(|| stand_ins(&message));
                        let next = candidates.get(*attempt).cloned();
                        *attempt += 1;
                        stood_in.insert(field);
                        next.is_some_and(|v| replace(&mut value, &path, v))
                    }
                };
                if !applied {
                    return Err(errors);
                }
            }
        }
    }
    Err(errors)
}

enum Fix {
    StandIn,
    Remove,
}

fn remove(root: &mut Value, path: &[String]) -> bool {
    let Some((last, parent)) = path.split_last() else { return false };
    match at_mut(root, parent) {
        Some(Value::Object(map)) => map.remove(last).is_some(),
        _ => false,
    }
}

fn replace(root: &mut Value, path: &[String], with: Value) -> bool {
    if path.is_empty() {
        // The body itself has the wrong type (an array where an object belongs): nothing to fix.
        return false;
    }
    let Some((last, parent)) = path.split_last() else { return false };
    match at_mut(root, parent) {
        Some(Value::Object(map)) => {
            map.insert(last.clone(), with);
            true
        }
        Some(Value::Array(items)) => match last.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
            Some(slot) => {
                *slot = with;
                true
            }
            None => false,
        },
        _ => false,
    }
}

/// garde paths look like `items[2].quantity`; the contract wants `body.items.2.quantity`.
fn garde_path(prefix: &str, garde: &str) -> String {
    let cleaned = garde.replace('[', ".").replace(']', "");
    let cleaned = cleaned.trim_matches('.');
    if cleaned.is_empty() { prefix.to_owned() } else { format!("{prefix}.{cleaned}") }
}

pub(crate) fn field_error(field: String, message: &str) -> FieldError {
    let (code, message) = message.split_once(CODE_SEP).unwrap_or(("invalid", message));
    FieldError { field: Some(field), message: message.to_owned(), code: code.to_owned() }
}

#[cfg(test)]
mod tests {
    use garde::Validate;
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, Validate)]
    #[garde(allow_unvalidated)]
    #[allow(dead_code)]
    struct Sample {
        #[garde(custom(rule(hexgate_domain::Username::parse)))]
        name: String,
        count: u32,
        flag: bool,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize, Validate)]
    #[garde(allow_unvalidated)]
    #[allow(dead_code)]
    struct Item {
        quantity: u32,
    }

    #[derive(Debug, Deserialize, Validate)]
    #[serde(deny_unknown_fields)]
    #[garde(allow_unvalidated)]
    #[allow(dead_code)]
    struct Strict {
        #[serde(default)]
        a: Option<bool>,
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().filter_map(|e| e.field.as_deref()).collect()
    }

    #[test]
    fn every_type_error_missing_field_and_rule_failure_is_reported() {
        let errors = decode_json::<Sample>(
            json!({"name": "x", "count": "5", "items": [{"quantity": 1}, {"quantity": -1}]}),
            "body",
        )
        .expect_err("invalid");
        let mut got = fields(&errors);
        got.sort_unstable();
        assert_eq!(got, vec!["body.count", "body.flag", "body.items.1.quantity", "body.name"]);
        let name = errors.iter().find(|e| e.field.as_deref() == Some("body.name")).expect("name");
        assert_eq!(name.code, "username_too_short");
        let flag = errors.iter().find(|e| e.field.as_deref() == Some("body.flag")).expect("flag");
        assert_eq!(flag.code, "missing");
    }

    #[test]
    fn strict_types_refuse_numbers_and_strings_for_booleans() {
        for bad in [json!(1), json!("true"), json!(0)] {
            let errors =
                decode_json::<Sample>(json!({"name": "abc", "count": 1, "flag": bad}), "body").expect_err("strict");
            assert_eq!(fields(&errors), vec!["body.flag"]);
        }
    }

    #[test]
    fn unknown_fields_are_named_when_forbidden() {
        let errors = decode_json::<Strict>(json!({"a": true, "is_admin": true, "x": 1}), "body").expect_err("extra");
        let mut got = fields(&errors);
        got.sort_unstable();
        assert_eq!(got, vec!["body.is_admin", "body.x"]);
        assert!(errors.iter().all(|e| e.code == "extra_forbidden"));
    }

    #[test]
    fn a_body_of_the_wrong_shape_is_one_error_at_the_root() {
        let errors = decode_json::<Sample>(json!([1, 2]), "body").expect_err("array");
        assert_eq!(fields(&errors), vec!["body"]);
    }

    #[derive(Debug, Deserialize, Validate)]
    #[garde(allow_unvalidated)]
    #[allow(dead_code)]
    struct Typed {
        id: uuid::Uuid,
        colour: Colour,
        #[garde(range(min = 1))]
        count: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Colour {
        Red,
        Blue,
    }

    #[test]
    fn bad_uuids_and_enum_values_do_not_hide_the_fields_after_them() {
        let errors =
            decode_json::<Typed>(json!({"id": "nope", "colour": "green", "count": 0}), "body").expect_err("invalid");
        let mut got = fields(&errors);
        got.sort_unstable();
        assert_eq!(got, vec!["body.colour", "body.count", "body.id"]);
    }

    #[test]
    fn a_valid_body_decodes() {
        let ok = decode_json::<Sample>(json!({"name": "abc", "count": 2, "flag": true}), "body").expect("valid");
        assert_eq!((ok.count, ok.flag), (2, true));
    }
}
