use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use apistos::paths::{Parameter, RequestBody};
use apistos::reference_or::ReferenceOr;
use apistos::{ApiComponent, ApistosSchema, OpenApiVersion};
use garde::Validate;
use serde::de::DeserializeOwned;

use super::IntoDomain;
use super::decode::{field_error, into_domain};
use crate::dto::FieldError;
use crate::error::ApiError;

/// A query string decoded strictly (`page=abc` or `is_active=1` is 422), each failing parameter
/// reported as `query.<name>`. Unknown parameters are ignored, as browsers and proxies add some.
pub(crate) struct ValidQuery<T: IntoDomain>(pub T::Domain);

pub(crate) fn decode<T: DeserializeOwned + Validate<Context = ()> + IntoDomain>(
    query: &str,
) -> Result<T::Domain, Vec<FieldError>> {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let mut errors = Vec::new();
    // Every query parameter is optional, so dropping a bad one lets decoding go on to the next.
    for _ in 0..64 {
        let encoded = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(encoded.as_bytes()));
        match serde_path_to_error::deserialize::<_, T>(de) {
            Ok(value) => {
                if let Err(report) = value.validate() {
                    for (path, error) in report.iter() {
                        errors.push(field_error(format!("query.{path}"), error.message()));
                    }
                }
                return into_domain(value, "query", errors, |_| false);
            }
            Err(err) => {
                let name = err.path().to_string();
                errors.push(FieldError {
                    field: Some(format!("query.{name}")),
                    message: "invalid value".to_owned(),
                    code: "invalid_type".into(),
                });
                let before = pairs.len();
                pairs.retain(|(k, _)| *k != name);
                if pairs.len() == before {
                    return Err(errors);
                }
            }
        }
    }
    Err(errors)
}

impl<T> FromRequest for ValidQuery<T>
where
    T: DeserializeOwned + Validate<Context = ()> + IntoDomain,
{
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(decode::<T>(req.query_string()).map(ValidQuery).map_err(ApiError::validation))
    }
}

impl<T: ApiComponent + IntoDomain> ApiComponent for ValidQuery<T> {
    fn required() -> bool {
        false
    }

    fn child_schemas(oas_version: OpenApiVersion) -> Vec<(String, ReferenceOr<ApistosSchema>)> {
        T::child_schemas(oas_version)
    }

    fn raw_schema(oas_version: OpenApiVersion) -> Option<ReferenceOr<ApistosSchema>> {
        T::raw_schema(oas_version)
    }

    fn schema(_: OpenApiVersion) -> Option<(String, ReferenceOr<ApistosSchema>)> {
        None
    }

    fn request_body(_: OpenApiVersion, _: Option<String>) -> Option<RequestBody> {
        None
    }

    fn parameters(oas_version: OpenApiVersion, description: Option<String>) -> Vec<Parameter> {
        <actix_web::web::Query<T> as ApiComponent>::parameters(oas_version, description)
    }
}
