use actix_web::web::{Data, Json, Path};
use apistos::actix::{CreatedJson, NoContent};
use apistos::api_operation;
use hexgate_domain::order::{DateRange, OrderId, OrderLine};
use hexgate_domain::product::{ProductId, ProductName, ProductUpdate};
use hexgate_domain::{PageRequest, UserId};
use hexgate_ports::ServiceError;

use crate::dto::{
    FieldError, OrderCreate, OrderListQuery, OrderPath, OrderResponse, PageResponse, PreferencesBody, ProductCreate,
    ProductListQuery, ProductPatch, ProductPath, ProductResponse, RelatedResponse, UserPath, money_of, tax_rate_of,
};
use crate::extract::{CurrentUser, ValidJson, ValidQuery};
use crate::{ApiError, HttpState};

fn validated<T, E: std::fmt::Display>(result: Result<T, E>) -> Result<T, ApiError> {
    // garde has already applied the same rule; this cannot fail for a request that got here.
    result.map_err(|e| ApiError::from(ServiceError::Internal(format!("validated field failed to parse: {e}"))))
}

fn page(page: u64, size: u64) -> Result<PageRequest, ApiError> {
    validated(PageRequest::new(page, size))
}

/// List products
///
/// Open to anyone. Newest first; `q` filters by name.
#[api_operation(operation_id = "list_products", tag = "products")]
pub(crate) async fn list_products(
    state: Data<HttpState>,
    query: ValidQuery<ProductListQuery>,
) -> Result<Json<PageResponse<ProductResponse>>, ApiError> {
    let query = query.0;
    let products = state.catalog.list(query.q.as_deref(), page(query.page, query.page_size)?).await?;
    Ok(Json(PageResponse::from_page(products, ProductResponse::from)))
}

/// Read a product
#[api_operation(operation_id = "read_product", tag = "products")]
pub(crate) async fn read_product(
    state: Data<HttpState>,
    path: Path<ProductPath>,
) -> Result<Json<ProductResponse>, ApiError> {
    Ok(Json(state.catalog.get(ProductId(path.id)).await?.into()))
}

/// Create a product
///
/// Admins and catalog managers. Prices are exact decimals with at most two places.
#[api_operation(operation_id = "create_product", tag = "products")]
pub(crate) async fn create_product(
    state: Data<HttpState>,
    caller: CurrentUser,
    body: ValidJson<ProductCreate>,
) -> Result<CreatedJson<ProductResponse>, ApiError> {
    let body = body.0;
    let product = state
        .catalog
        .create(
            &caller.0.user,
            validated(ProductName::parse(&body.name))?,
            validated(money_of(body.price))?,
            validated(tax_rate_of(body.tax_rate))?,
        )
        .await?;
    Ok(CreatedJson(product.into()))
}

/// Update a product
///
/// Admins and catalog managers. Only given fields change; orders keep the price they were placed at.
#[api_operation(operation_id = "update_product", tag = "products")]
pub(crate) async fn update_product(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<ProductPath>,
    body: ValidJson<ProductPatch>,
) -> Result<Json<ProductResponse>, ApiError> {
    let body = body.0;
    let update = ProductUpdate {
        name: validated(body.name.as_deref().map(ProductName::parse).transpose())?,
        price: validated(body.price.map(money_of).transpose())?,
        tax_rate: validated(body.tax_rate.map(tax_rate_of).transpose())?,
    };
    Ok(Json(state.catalog.update(&caller.0.user, ProductId(path.id), update).await?.into()))
}

/// Delete a product
///
/// Admins and catalog managers. Orders that contain it keep their copy.
#[api_operation(operation_id = "delete_product", tag = "products")]
pub(crate) async fn delete_product(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<ProductPath>,
) -> Result<NoContent, ApiError> {
    state.catalog.delete(&caller.0.user, ProductId(path.id)).await?;
    Ok(NoContent)
}

/// Place an order
///
/// 1..=50 lines; names and prices are copied from the products in the same transaction. An
/// unknown product is 422 on `body.items.<index>.product_id`.
#[api_operation(operation_id = "create_order", tag = "orders")]
pub(crate) async fn create_order(
    state: Data<HttpState>,
    caller: CurrentUser,
    body: ValidJson<OrderCreate>,
) -> Result<CreatedJson<OrderResponse>, ApiError> {
    let lines: Vec<OrderLine> =
        body.0.items.iter().map(|l| OrderLine { product_id: ProductId(l.product_id), quantity: l.quantity }).collect();
    Ok(CreatedJson(state.orders.place(&caller.0.user, &lines).await?.into()))
}

/// List orders
///
/// Your own; admins see everyone's, or one user's with `user_id`. Newest first.
#[api_operation(operation_id = "list_orders", tag = "orders")]
pub(crate) async fn list_orders(
    state: Data<HttpState>,
    caller: CurrentUser,
    query: ValidQuery<OrderListQuery>,
) -> Result<Json<PageResponse<OrderResponse>>, ApiError> {
    let query = query.0;
    let range = DateRange::new(query.start_date, query.end_date).map_err(|e| {
        let entry = |field: &str| FieldError {
            field: Some(field.to_owned()),
            message: e.to_string(),
            code: hexgate_domain::RuleViolation::code(&e).to_owned(),
        };
        ApiError::validation(vec![entry("query.start_date"), entry("query.end_date")])
    })?;
    let orders = state
        .orders
        .list(&caller.0.user, query.user_id.map(UserId::from_uuid), range, page(query.page, query.page_size)?)
        .await?;
    Ok(Json(PageResponse::from_page(orders, OrderResponse::from)))
}

/// Read an order
///
/// The owner or an admin; anyone else gets 404.
#[api_operation(operation_id = "read_order", tag = "orders")]
pub(crate) async fn read_order(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<OrderPath>,
) -> Result<Json<OrderResponse>, ApiError> {
    Ok(Json(state.orders.get(&caller.0.user, OrderId(path.id)).await?.into()))
}

/// Cancel an order
///
/// The owner or an admin, only while it is pending (else 409).
#[api_operation(operation_id = "cancel_order", tag = "orders")]
pub(crate) async fn cancel_order(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<OrderPath>,
) -> Result<Json<OrderResponse>, ApiError> {
    Ok(Json(state.orders.cancel(&caller.0.user, OrderId(path.id)).await?.into()))
}

/// Read a user's preferences
///
/// Yourself or an admin. Never set: the defaults (`system`, `en`, notifications on).
#[api_operation(operation_id = "read_preferences", tag = "users")]
pub(crate) async fn read_preferences(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<UserPath>,
) -> Result<Json<PreferencesBody>, ApiError> {
    Ok(Json(state.profiles.preferences(&caller.0.user, UserId::from_uuid(path.id)).await?.into()))
}

/// Replace a user's preferences
///
/// Yourself or an admin; all three fields.
#[api_operation(operation_id = "update_preferences", tag = "users")]
pub(crate) async fn update_preferences(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<UserPath>,
    body: ValidJson<PreferencesBody>,
) -> Result<Json<PreferencesBody>, ApiError> {
    let preferences = validated(body.0.into_domain().ok_or("language"))?;
    let saved = state.profiles.set_preferences(&caller.0.user, UserId::from_uuid(path.id), preferences).await?;
    Ok(Json(saved.into()))
}

/// A user with their orders and preferences
///
/// Yourself or an admin. The user, their newest 100 orders and their preferences are read
/// concurrently.
#[api_operation(operation_id = "read_user_related", tag = "users")]
pub(crate) async fn read_related(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<UserPath>,
) -> Result<Json<RelatedResponse>, ApiError> {
    let related = state.profiles.related(&caller.0.user, UserId::from_uuid(path.id)).await?;
    Ok(Json(RelatedResponse {
        user: related.user.into(),
        orders: related.orders.into_iter().map(OrderResponse::from).collect(),
        preferences: related.preferences.map(PreferencesBody::from),
    }))
}
