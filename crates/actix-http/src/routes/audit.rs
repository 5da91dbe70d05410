use actix_web::web::{Data, Json};
use apistos::api_operation;

use crate::dto::{AuditListQuery, AuditPageResponse};
use crate::extract::{SessionUser, ValidQuery};
use crate::{ApiError, HttpState};

/// List audit events
///
/// Admins only. Newest first; filter by `type`, `actor_id`, `subject_id`, `org_id`, `since`
/// (inclusive) and `until` (exclusive). Continue with `cursor=<next_cursor>`: opaque, bound to
/// the same filters; a bad one is 422. Not with an API key.
#[api_operation(operation_id = "list_audit_events", tag = "audit")]
pub(crate) async fn list_audit_events(
    state: Data<HttpState>,
    caller: SessionUser,
    query: ValidQuery<AuditListQuery>,
) -> Result<Json<AuditPageResponse>, ApiError> {
    Ok(Json(state.audit.list_all(&caller.0.user, query.0).await?.into()))
}

/// List my audit events
///
/// The events about your account, newest first, with the same filters and paging. Not with an
/// API key.
#[api_operation(operation_id = "list_my_audit_events", tag = "audit")]
pub(crate) async fn list_my_audit_events(
    state: Data<HttpState>,
    caller: SessionUser,
    query: ValidQuery<AuditListQuery>,
) -> Result<Json<AuditPageResponse>, ApiError> {
    Ok(Json(state.audit.list_mine(&caller.0.user, query.0).await?.into()))
}
