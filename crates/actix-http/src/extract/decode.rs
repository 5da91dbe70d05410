//! Strict decoding that reports every failing field, not just the first, without reading any
//! library's error wording.
//!
//! A body is first checked against the JSON Schema that the OpenAPI document publishes for its
//! type (`jsonschema` reports every error with its instance path and kind): wrong types, missing
//! fields, unknown fields where they are forbidden, values outside an enum, malformed UUIDs and
//! timestamps. Each field that fails there is reported and replaced by a stand-in built from its
//! own schema, so the body can be decoded and the remaining fields' rules (garde, calling the
//! domain parsers) still run; rule errors on stand-ins are dropped, since the field is reported
//! already. Should serde still refuse a value the schema allowed (a number out of an integer's
//! range), the field is found by serde_path_to_error's structured path and stood in the same way.

use std::any::TypeId;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, RwLock};

use apistos::schemars::{JsonSchema, SchemaGenerator};
use garde::Validate;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use jsonschema::{JsonType, Validator};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::IntoDomain;
use crate::dto::FieldError;

/// Separates a stable code from the message inside a garde error (garde errors carry one string).
const CODE_SEP: char = '\u{1f}';

/// A body type's published schema and its compiled validator, made once per type.
struct BodySchema {
    schema: Value,
    validator: Validator,
}

static SCHEMAS: LazyLock<RwLock<HashMap<TypeId, Arc<BodySchema>>>> = LazyLock::new(RwLock::default);

fn body_schema<T: JsonSchema + 'static>() -> Arc<BodySchema> {
    let id = TypeId::of::<T>();
    if let Some(found) = SCHEMAS.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id) {
        return Arc::clone(found);
    }
    let schema = SchemaGenerator::default().into_root_schema_for::<T>().to_value();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        // The schemas are generated from our own types: one that does not compile is a bug in
        // this crate, found by the first request to that route in any test.
        .unwrap_or_else(|e| panic!("the schema of {} does not compile: {e}", std::any::type_name::<T>()));
    let made = Arc::new(BodySchema { schema, validator });
    SCHEMAS.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, Arc::clone(&made));
    made
}

/// The formats a stand-in or a check cares about; others (`email`, `uint32`…) are left to the
/// domain rules, which report them with their own codes.
const CHECKED_FORMATS: [&str; 3] = ["uuid", "date-time", "date"];

/// One structural problem the schema found.
struct Problem {
    path: Vec<String>,
    code: &'static str,
    message: String,
}

fn problems(schema: &BodySchema, value: &Value) -> Vec<Problem> {
    let mut found = Vec::new();
    for error in schema.validator.iter_errors(value) {
        let path: Vec<String> = error
            .instance_path()
            .iter()
            .map(|segment| match segment {
                LocationSegment::Property(name) => name.into_owned(),
                LocationSegment::Index(i) => i.to_string(),
            })
            .collect();
        match error.kind() {
            ValidationErrorKind::Type { kind } => {
                found.push(Problem { path, code: "invalid_type", message: format!("expected {}", expected(kind)) });
            }
            ValidationErrorKind::Required { property } => {
                let mut path = path;
                path.push(property.as_str().map_or_else(|| property.to_string(), str::to_owned));
                found.push(Problem { path, code: "missing", message: "field required".into() });
            }
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    let mut path = path.clone();
                    path.push(name.clone());
                    found.push(Problem { path, code: "extra_forbidden", message: "unknown field".into() });
                }
            }
            ValidationErrorKind::Enum { options } => {
                let options: Vec<String> = options
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                    .collect();
                found.push(Problem {
                    path,
                    code: "invalid_type",
                    message: format!("must be one of: {}", options.join(", ")),
                });
            }
            ValidationErrorKind::Format { format } if CHECKED_FORMATS.contains(&format.as_str()) => {
                let message = match format.as_str() {
                    "uuid" => "must be a UUID",
                    "date" => "must be a date (YYYY-MM-DD)",
                    _ => "must be an RFC 3339 timestamp",
                };
                found.push(Problem { path, code: "invalid_type", message: message.into() });
            }
            // A `oneOf` over the body's own fields (one of two fields, not both) is a rule across
            // fields: the domain reports it with its own code once the body is decoded.
            ValidationErrorKind::AnyOf { .. } | ValidationErrorKind::OneOfNotValid { .. } if !path.is_empty() => {
                found.push(Problem { path, code: "invalid_type", message: "invalid value".into() });
            }
            // Bounds, lengths and patterns are the domain's rules: garde reports them with the
            // domain's codes once the body is decoded.
            _ => {}
        }
    }
    found
}

fn expected(kind: &TypeKind) -> &'static str {
    let name = |t: JsonType| match t {
        JsonType::Integer => "an integer",
        JsonType::Number => "a number",
        JsonType::String => "a string",
        JsonType::Boolean => "a boolean",
        JsonType::Array => "an array",
        JsonType::Object => "an object",
        JsonType::Null => "null",
    };
    match kind {
        TypeKind::Single(t) => name(*t),
        TypeKind::Multiple(set) => set.iter().find(|t| *t != JsonType::Null).map_or("null", name),
    }
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

/// Follows a local `$ref` (`#/$defs/Name`) to its schema.
fn resolve<'s>(root: &'s Value, schema: &'s Value) -> &'s Value {
    let mut schema = schema;
    for _ in 0..16 {
        match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => match root.pointer(pointer) {
                Some(target) => schema = target,
                None => break,
            },
            None => break,
        }
    }
    schema
}

/// The first alternative of an `anyOf`/`oneOf` that is not `null` (how schemars writes `Option<T>`).
fn alternative<'s>(root: &'s Value, schema: &'s Value) -> &'s Value {
    let schema = resolve(root, schema);
    for key in ["anyOf", "oneOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|alts| alts.iter().find(|a| resolve(root, a).get("type") != Some(&Value::from("null"))))
        {
            return resolve(root, first);
        }
    }
    schema
}

/// The schema of the value at `path` inside a value of `root`'s type.
fn schema_at<'s>(root: &'s Value, path: &[String]) -> Option<&'s Value> {
    path.iter().try_fold(alternative(root, root), |schema, seg| {
        let next = if seg.parse::<usize>().is_ok() && schema.get("items").is_some() {
            schema.get("items")
        } else {
            schema.get("properties").and_then(|p| p.get(seg))
        }?;
        Some(alternative(root, next))
    })
}

/// A value that satisfies `schema`'s type (and enum or format), built from the schema alone.
fn stand_in(root: &Value, schema: &Value, depth: usize) -> Value {
    let schema = alternative(root, schema);
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|o| o.first()) {
        return first.clone();
    }
    if let Some(constant) = schema.get("const") {
        return constant.clone();
    }
    let ty = match schema.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
        _ => "null",
    };
    let bound = || schema.get("minimum").cloned().unwrap_or_else(|| Value::from(0));
    match ty {
        "string" => Value::from(match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => "00000000-0000-0000-0000-000000000000",
            Some("date-time") => "1970-01-01T00:00:00Z",
            Some("date") => "1970-01-01",
            _ => "",
        }),
        "integer" | "number" => bound(),
        "boolean" => Value::Bool(false),
        "array" => Value::Array(Vec::new()),
        "object" if depth < 8 => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let required =
                schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str);
            let mut object = Map::new();
            for name in required {
                if let Some(sub) = properties.and_then(|p| p.get(name)) {
                    object.insert(name.to_owned(), stand_in(root, sub, depth + 1));
                }
            }
            Value::Object(object)
        }
        "object" => Value::Object(Map::new()),
        _ => Value::Null,
    }
}

/// Whether `field` is one of the stood-in fields or inside one.
fn covered(stood_in: &HashSet<String>, field: &str) -> bool {
    stood_in.iter().any(|s| field == s || field.starts_with(&format!("{s}.")))
}

/// The fields found wrong so far, and those replaced by a stand-in.
struct Findings<'s> {
    prefix: &'s str,
    schema: &'s Value,
    errors: Vec<FieldError>,
    stood_in: HashSet<String>,
}

impl Findings<'_> {
    /// The part's domain value, or every error: those found so far and the rules the part's
    /// fields break, except on fields already reported.
    fn into_domain<T: IntoDomain>(self, decoded: T) -> Result<T::Domain, Vec<FieldError>> {
        let stood_in = self.stood_in;
        into_domain(decoded, self.prefix, self.errors, |field| covered(&stood_in, field))
    }

    fn covers(&self, field: &str) -> bool {
        covered(&self.stood_in, field)
    }

    /// Reports the field at `path` and takes it out of the way: removed when it should not be
    /// there, else replaced by a stand-in from its schema. False when it cannot be fixed.
    fn fix(&mut self, value: &mut Value, path: &[String], code: &str, message: String) -> bool {
        let field = dotted(self.prefix, path);
        if self.covers(&field) {
            return true;
        }
        self.errors.push(FieldError { field: Some(field.clone()), message, code: code.to_owned() });
        self.stood_in.insert(field);
        if code == "extra_forbidden" {
            return remove(value, path);
        }
        schema_at(self.schema, path).map(|s| stand_in(self.schema, s, 0)).is_some_and(|v| replace(value, path, v))
    }
}

/// Decodes `value` into `T` and runs `T`'s garde rules, collecting every failing field under
/// `prefix` (`body`).
///
/// # Errors
/// One [`FieldError`] per failing field.
/// JSON Schema counts `30.0` as an integer (a number with no fraction), so the document lets a
/// client send it where an integer belongs; serde would refuse it for a `u16`. Such numbers are
/// rewritten as the integers they are. Only exactly representable ones (|x| ≤ 2⁵³): beyond that
/// a float no longer names one integer. A float field reads `30` as `30.0`, so nothing else changes.
fn integral_floats_as_integers(value: &mut Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                // In range and without a fraction: the cast is exact.
                #[allow(clippy::cast_possible_truncation)]
                let whole = f as i64;
                *value = Value::from(whole);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_as_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_as_integers),
        _ => {}
    }
}

pub(crate) fn decode_json<T>(mut value: Value, prefix: &str) -> Result<T::Domain, Vec<FieldError>>
where
    T: DeserializeOwned + Validate<Context = ()> + JsonSchema + IntoDomain + 'static,
{
    let schema = body_schema::<T>();
    let found = problems(&schema, &value);
    if let Some(root) = found.iter().find(|p| p.path.is_empty()) {
        // The body itself has the wrong shape (an array where an object belongs).
        return Err(vec![FieldError {
            field: Some(prefix.to_owned()),
            message: root.message.clone(),
            code: root.code.to_owned(),
        }]);
    }
    let mut findings = Findings { prefix, schema: &schema.schema, errors: Vec::new(), stood_in: HashSet::new() };
    for p in found {
        findings.fix(&mut value, &p.path, p.code, p.message);
    }
    integral_floats_as_integers(&mut value);
    // Each round stands in one more field serde refused; a body has far fewer fields than this.
    for _ in 0..64 {
        match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(decoded) => {
                if let Err(report) = decoded.validate() {
                    for (path, error) in report.iter() {
                        let field = garde_path(prefix, &path.to_string());
                        if !findings.covers(&field) {
                            findings.errors.push(field_error(field, error.message()));
                        }
                    }
                }
                return findings.into_domain(decoded);
            }
            Err(err) => {
                let path = segments(err.path());
                let field = dotted(prefix, &path);
                let again = !path.is_empty()
                    && !findings.stood_in.contains(&field)
                    && findings.fix(&mut value, &path, "invalid_type", "invalid value".into());
                if !again {
                    if !findings.errors.iter().any(|e| e.field.as_deref() == Some(field.as_str())) {
                        findings.errors.push(FieldError {
                            field: Some(field),
                            message: "invalid value".into(),
                            code: "invalid_type".into(),
                        });
                    }
                    return Err(findings.errors);
                }
            }
        }
    }
    Err(findings.errors)
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

/// The domain values of a decoded request part, or every error: `errors` found so far and the
/// rules `decoded` breaks, named under `prefix`, except on fields `reported` says are covered.
pub(super) fn into_domain<T: IntoDomain>(
    decoded: T,
    prefix: &str,
    mut errors: Vec<FieldError>,
    reported: impl Fn(&str) -> bool,
) -> Result<T::Domain, Vec<FieldError>> {
    match decoded.into_domain() {
        Ok(domain) if errors.is_empty() => Ok(domain),
        Ok(_) => Err(errors),
        Err(violations) => {
            for v in violations {
                let field = if v.field.is_empty() { prefix.to_owned() } else { format!("{prefix}.{}", v.field) };
                if !reported(&field) && !errors.iter().any(|e| e.field.as_deref() == Some(field.as_str())) {
                    errors.push(FieldError { field: Some(field), message: v.message, code: v.code.to_owned() });
                }
            }
            Err(errors)
        }
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
    use apistos::schemars::JsonSchema;
    use garde::Validate;
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, Validate, JsonSchema)]
    #[schemars(crate = "apistos")]
    #[garde(allow_unvalidated)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: u32,
        flag: bool,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize, Validate, JsonSchema)]
    #[schemars(crate = "apistos")]
    #[garde(allow_unvalidated)]
    #[allow(dead_code)]
    struct Item {
        quantity: u32,
    }

    #[derive(Debug, Deserialize, Validate, JsonSchema)]
    #[schemars(crate = "apistos")]
    #[serde(deny_unknown_fields)]
    #[garde(allow_unvalidated)]
    #[allow(dead_code)]
    struct Strict {
        #[serde(default)]
        a: Option<bool>,
    }

    crate::extract::as_is!(Item, Strict, Typed);

    impl IntoDomain for Sample {
        type Domain = Self;

        fn into_domain(self) -> Result<Self, Vec<hexgate_ports::FieldViolation>> {
            let mut rules = crate::extract::Rules::default();
            let name = rules.check("name", hexgate_domain::Username::parse(&self.name));
            rules.finish(|| name.map(|_| self))
        }
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

    #[derive(Debug, Deserialize, Validate, JsonSchema)]
    #[schemars(crate = "apistos")]
    #[garde(allow_unvalidated)]
    #[allow(dead_code)]
    struct Typed {
        id: uuid::Uuid,
        colour: Colour,
        #[garde(range(min = 1))]
        count: u32,
    }

    #[derive(Debug, Deserialize, JsonSchema)]
    #[schemars(crate = "apistos")]
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
        let code = |f: &str| errors.iter().find(|e| e.field.as_deref() == Some(f)).map(|e| e.code.as_str());
        assert_eq!(code("body.id"), Some("invalid_type"), "format checked by the schema");
        assert_eq!(code("body.colour"), Some("invalid_type"), "enum checked by the schema");
        assert_eq!(code("body.count"), Some("invalid"), "the rule still runs beside the stand-ins");
    }

    #[test]
    fn a_number_out_of_an_integers_range_is_found_by_its_path_and_the_rest_still_checked() {
        let errors = decode_json::<Sample>(
            json!({"name": "x", "count": 5_000_000_000_u64, "flag": true, "items": [{"quantity": -1}]}),
            "body",
        )
        .expect_err("invalid");
        let mut got = fields(&errors);
        got.sort_unstable();
        assert_eq!(got, vec!["body.count", "body.items.0.quantity", "body.name"]);
    }

    #[test]
    fn an_integer_written_with_a_zero_fraction_is_the_integer_and_a_fraction_is_refused() {
        let ok = decode_json::<Sample>(json!({"name": "abc", "count": 2.0, "flag": true}), "body").expect("2.0 is 2");
        assert_eq!(ok.count, 2);
        let errors =
            decode_json::<Sample>(json!({"name": "abc", "count": 2.5, "flag": true}), "body").expect_err("2.5");
        assert_eq!(fields(&errors), vec!["body.count"]);
        let errors =
            decode_json::<Sample>(json!({"name": "abc", "count": 1e300, "flag": true}), "body").expect_err("huge");
        assert_eq!(fields(&errors), vec!["body.count"], "beyond 2^53 a float names no one integer");
    }

    #[test]
    fn a_valid_body_decodes() {
        let ok = decode_json::<Sample>(json!({"name": "abc", "count": 2, "flag": true}), "body").expect("valid");
        assert_eq!((ok.count, ok.flag), (2, true));
    }
}
