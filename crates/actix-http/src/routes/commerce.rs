use actix_web::web::{Data, Json, Path};
use apistos::actix::{CreatedJson, NoContent};
use apistos::api_operation;
use hexgate_domain::UserId;
use hexgate_domain::order::OrderId;
use hexgate_domain::product::ProductId;

use crate::dto::{
    OrderCreate, OrderListQuery, OrderPath, OrderResponse, PageResponse, PreferencesBody, ProductCreate,
    ProductListQuery, ProductPatch, ProductPath, ProductResponse, RelatedResponse, UserPath,
};
use crate::extract::{CurrentUser, ValidJson, ValidQuery};
use crate::{ApiError, HttpState};

/// List products
///
/// Open to anyone. Newest first; `q` filters by name.
#[api_operation(operation_id = "list_products", tag = "products")]
pub(crate) async fn list_products(
    state: Data<HttpState>,
    query: ValidQuery<ProductListQuery>,
) -> Result<Json<PageResponse<ProductResponse>>, ApiError> {
    let listing = query.0;
    let products = state.catalog.list(listing.q.as_deref(), listing.page).await?;
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
    let draft = body.0;
    let product = state.catalog.create(&caller.0.user, draft.name, draft.price, draft.tax_rate).await?;
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
    Ok(Json(state.catalog.update(&caller.0.user, ProductId(path.id), body.0).await?.into()))
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
    Ok(CreatedJson(state.orders.place(&caller.0.user, &body.0).await?.into()))
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
    let listing = query.0;
    let orders = state.orders.list(&caller.0.user, listing.user, listing.created, listing.page).await?;
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
    let preferences = body.0;
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
