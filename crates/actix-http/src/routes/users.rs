use actix_web::web::{Data, Json, Path};
use apistos::actix::{CreatedJson, NoContent};
use apistos::api_operation;
use hexgate_domain::UserId;

use crate::dto::{
    BatchCreate, PageResponse, PermissionsUpdate, UserCreate, UserListQuery, UserPatch, UserPath, UserResponse,
};
use crate::extract::{Context, CurrentUser, MaybeUser, ValidJson, ValidQuery};
use crate::{ApiError, HttpState};

/// Create a user (sign up)
///
/// Open to anyone while open registration is on; otherwise admins only. Unknown fields are
/// ignored and never grant anything.
#[api_operation(operation_id = "create_user", tag = "users")]
pub(crate) async fn create_user(
    state: Data<HttpState>,
    caller: MaybeUser,
    context: Context,
    body: ValidJson<UserCreate>,
) -> Result<CreatedJson<UserResponse>, ApiError> {
    let account = body.0;
    let actor = caller.0.as_ref().map(|p| &p.user);
    let user = state.users.register(actor, account, &context.0).await?;
    Ok(CreatedJson(user.into()))
}

/// List users
///
/// Admins and user managers. Paginated, filtered by `q` and `is_active`, sorted by `sort`.
#[api_operation(operation_id = "list_users", tag = "users")]
pub(crate) async fn list_users(
    state: Data<HttpState>,
    caller: CurrentUser,
    query: ValidQuery<UserListQuery>,
) -> Result<Json<PageResponse<UserResponse>>, ApiError> {
    let listing = query.0;
    let users = state.users.list(&caller.0.user, &listing.filter, listing.page).await?;
    Ok(Json(PageResponse::from_page(users, UserResponse::from)))
}

/// Read my account
#[api_operation(operation_id = "read_me", tag = "users")]
pub(crate) async fn read_me(caller: CurrentUser) -> Result<Json<UserResponse>, ApiError> {
    Ok(Json(caller.0.user.into()))
}

/// Update my account
///
/// Only given fields change; other fields are refused. A new e-mail address is unverified.
#[api_operation(operation_id = "update_me", tag = "users")]
pub(crate) async fn update_me(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    body: ValidJson<UserPatch>,
) -> Result<Json<UserResponse>, ApiError> {
    let me = &caller.0.user;
    let user = state.users.update(me, me.id, body.0, &context.0).await?;
    Ok(Json(user.into()))
}

/// Create up to 100 users at once
///
/// Admins and user managers. All or nothing; answers the users in input order.
#[api_operation(operation_id = "create_users_batch", tag = "users")]
pub(crate) async fn create_users_batch(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    body: ValidJson<BatchCreate>,
) -> Result<CreatedJson<Vec<UserResponse>>, ApiError> {
    let accounts = body.0;
    let users = state.users.create_batch(&caller.0.user, accounts, &context.0).await?;
    Ok(CreatedJson(users.into_iter().map(UserResponse::from).collect()))
}

/// Read a user
///
/// Yourself, or anyone for admins and user managers. Others get 403 whether or not the id exists.
#[api_operation(operation_id = "read_user", tag = "users")]
pub(crate) async fn read_user(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<UserPath>,
) -> Result<Json<UserResponse>, ApiError> {
    let user = state.users.get(&caller.0.user, UserId::from_uuid(path.id)).await?;
    Ok(Json(user.into()))
}

/// Update a user
///
/// Yourself, or anyone for admins. Only given fields change; other fields are refused.
#[api_operation(operation_id = "update_user", tag = "users")]
pub(crate) async fn update_user(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    path: Path<UserPath>,
    body: ValidJson<UserPatch>,
) -> Result<Json<UserResponse>, ApiError> {
    let user = state.users.update(&caller.0.user, UserId::from_uuid(path.id), body.0, &context.0).await?;
    Ok(Json(user.into()))
}

/// Delete a user
///
/// Admins only. Their sessions go with them; the last active admin cannot be deleted (409).
#[api_operation(operation_id = "delete_user", tag = "users")]
pub(crate) async fn delete_user(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    path: Path<UserPath>,
) -> Result<NoContent, ApiError> {
    state.users.delete(&caller.0.user, UserId::from_uuid(path.id), &context.0).await?;
    Ok(NoContent)
}

/// Set a user's permissions
///
/// Admins only. Removing `admin` from the last active admin is refused (409).
#[api_operation(operation_id = "set_permissions", tag = "users")]
pub(crate) async fn set_permissions(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    path: Path<UserPath>,
    body: ValidJson<PermissionsUpdate>,
) -> Result<Json<UserResponse>, ApiError> {
    let permissions = body.0;
    let user = state.users.set_permissions(&caller.0.user, UserId::from_uuid(path.id), permissions, &context.0).await?;
    Ok(Json(user.into()))
}
