//! Organizations. Every route under `/orgs/{org_id}` answers a non-member exactly as it answers
//! an unknown id: 404 `Organization not found`, after the same single read.

use actix_web::web::{Data, Json, Path};
use apistos::actix::{CreatedJson, NoContent};
use apistos::api_operation;
use hexgate_domain::UserId;
use hexgate_domain::org::{InvitationId, OrgId};

use crate::dto::{
    AuditListQuery, AuditPageResponse, InvitationAccept, InvitationCreate, InvitationResponse, MemberResponse,
    MembershipResponse, OrgCreate, OrgInvitationPath, OrgMemberPath, OrgPatch, OrgPath, OrgResponse, OrgTokenResponse,
    RoleUpdate,
};
use crate::extract::{Context, CurrentUser, SessionUser, ValidJson, ValidQuery};
use crate::{ApiError, HttpState};

/// Create an organization
///
/// The caller becomes its owner. A slug already taken is 409 `conflict`.
#[api_operation(operation_id = "create_org", tag = "orgs")]
pub(crate) async fn create_org(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    body: ValidJson<OrgCreate>,
) -> Result<CreatedJson<OrgResponse>, ApiError> {
    Ok(CreatedJson(state.orgs.create(&caller.0, body.0, &context.0).await?.into()))
}

/// List my organizations
///
/// Every organization the caller is a member of, with the caller's role.
#[api_operation(operation_id = "list_orgs", tag = "orgs")]
pub(crate) async fn list_orgs(state: Data<HttpState>, caller: CurrentUser) -> Result<Json<Vec<OrgResponse>>, ApiError> {
    Ok(Json(state.orgs.list(&caller.0).await?.into_iter().map(OrgResponse::from).collect()))
}

/// Read an organization
///
/// Members only; anyone else gets 404, whether or not it exists.
#[api_operation(operation_id = "read_org", tag = "orgs")]
pub(crate) async fn read_org(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<OrgPath>,
) -> Result<Json<OrgResponse>, ApiError> {
    Ok(Json(state.orgs.get(&caller.0, OrgId::from_uuid(path.org_id)).await?.into()))
}

/// Rename an organization
///
/// Owners and admins (a member gets 403; a non-member 404).
#[api_operation(operation_id = "update_org", tag = "orgs")]
pub(crate) async fn update_org(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    path: Path<OrgPath>,
    body: ValidJson<OrgPatch>,
) -> Result<Json<OrgResponse>, ApiError> {
    Ok(Json(state.orgs.rename(&caller.0, OrgId::from_uuid(path.org_id), body.0, &context.0).await?.into()))
}

/// Delete an organization
///
/// Owners only. Its memberships and invitations go with it; its audit events stay.
#[api_operation(operation_id = "delete_org", tag = "orgs")]
pub(crate) async fn delete_org(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    path: Path<OrgPath>,
) -> Result<NoContent, ApiError> {
    state.orgs.delete(&caller.0, OrgId::from_uuid(path.org_id), &context.0).await?;
    Ok(NoContent)
}

/// List an organization's members
///
/// Members only, oldest membership first.
#[api_operation(operation_id = "list_org_members", tag = "orgs")]
pub(crate) async fn list_members(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<OrgPath>,
) -> Result<Json<Vec<MemberResponse>>, ApiError> {
    let members = state.orgs.members(&caller.0, OrgId::from_uuid(path.org_id)).await?;
    Ok(Json(members.into_iter().map(MemberResponse::from).collect()))
}

/// Change a member's role
///
/// Owners set any role; admins move people between `member` and `admin` only and never touch an
/// owner. Demoting the last owner is 409 `last_owner`.
#[api_operation(operation_id = "update_org_member", tag = "orgs")]
pub(crate) async fn update_member(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    path: Path<OrgMemberPath>,
    body: ValidJson<RoleUpdate>,
) -> Result<Json<MemberResponse>, ApiError> {
    let (org, user) = (OrgId::from_uuid(path.org_id), UserId::from_uuid(path.user_id));
    Ok(Json(state.orgs.change_role(&caller.0, org, user, body.0, &context.0).await?.into()))
}

/// Remove a member, or leave
///
/// Owners remove anyone, admins anyone but an owner, and every member may remove themself
/// (leave). Removing or leaving as the last owner is 409 `last_owner`.
#[api_operation(operation_id = "remove_org_member", tag = "orgs")]
pub(crate) async fn remove_member(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    path: Path<OrgMemberPath>,
) -> Result<NoContent, ApiError> {
    let (org, user) = (OrgId::from_uuid(path.org_id), UserId::from_uuid(path.user_id));
    state.orgs.remove_member(&caller.0, org, user, &context.0).await?;
    Ok(NoContent)
}

/// Invite someone by e-mail
///
/// Owners and admins; inviting as `owner` needs an owner. A mail with a single-use token (valid
/// 7 days) is queued; whoever accepts it must be signed in with that address, verified.
#[api_operation(operation_id = "create_org_invitation", tag = "orgs")]
pub(crate) async fn create_invitation(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    path: Path<OrgPath>,
    body: ValidJson<InvitationCreate>,
) -> Result<CreatedJson<InvitationResponse>, ApiError> {
    let invitation = state.orgs.invite(&caller.0, OrgId::from_uuid(path.org_id), body.0, &context.0).await?;
    Ok(CreatedJson(invitation.into()))
}

/// List pending invitations
///
/// Owners and admins: invitations neither accepted nor expired, newest first.
#[api_operation(operation_id = "list_org_invitations", tag = "orgs")]
pub(crate) async fn list_invitations(
    state: Data<HttpState>,
    caller: CurrentUser,
    path: Path<OrgPath>,
) -> Result<Json<Vec<InvitationResponse>>, ApiError> {
    let invitations = state.orgs.invitations(&caller.0, OrgId::from_uuid(path.org_id)).await?;
    Ok(Json(invitations.into_iter().map(InvitationResponse::from).collect()))
}

/// Revoke an invitation
///
/// Owners and admins. Its token stops working at once.
#[api_operation(operation_id = "revoke_org_invitation", tag = "orgs")]
pub(crate) async fn revoke_invitation(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    path: Path<OrgInvitationPath>,
) -> Result<NoContent, ApiError> {
    let (org, id) = (OrgId::from_uuid(path.org_id), InvitationId::from_uuid(path.id));
    state.orgs.revoke_invitation(&caller.0, org, id, &context.0).await?;
    Ok(NoContent)
}

/// Accept an invitation
///
/// With the mailed token. The caller's e-mail must be verified and equal to the invited one
/// (else 403); a bad, used or expired token is 400 `invalid_token`; a member already is 409.
#[api_operation(operation_id = "accept_org_invitation", tag = "orgs")]
pub(crate) async fn accept_invitation(
    state: Data<HttpState>,
    caller: CurrentUser,
    context: Context,
    body: ValidJson<InvitationAccept>,
) -> Result<Json<MembershipResponse>, ApiError> {
    Ok(Json(state.orgs.accept(&caller.0, &body.0.token, &context.0).await?.into()))
}

/// Get an organization token
///
/// An access token for the caller's session (same key, same life) that also carries `org_id`
/// and `org_role`, for services that authorize by tenant; verify it from
/// `/.well-known/jwks.json`. No refresh token. Members only; not with an API key.
#[api_operation(operation_id = "create_org_token", tag = "orgs")]
pub(crate) async fn org_token(
    state: Data<HttpState>,
    caller: SessionUser,
    path: Path<OrgPath>,
) -> Result<Json<OrgTokenResponse>, ApiError> {
    Ok(Json(state.orgs.token(&caller.0, OrgId::from_uuid(path.org_id)).await?.into()))
}

/// List an organization's audit events
///
/// Owners and admins. Newest first, with the audit log's filters and paging (`limit`, `cursor`);
/// `org_id` is always this organization. Not with an API key.
#[api_operation(operation_id = "list_org_audit_events", tag = "orgs")]
pub(crate) async fn list_org_audit_events(
    state: Data<HttpState>,
    caller: SessionUser,
    path: Path<OrgPath>,
    query: ValidQuery<AuditListQuery>,
) -> Result<Json<AuditPageResponse>, ApiError> {
    let caller = hexgate_ports::Caller::from(caller.0);
    Ok(Json(state.orgs.audit_events(&caller, OrgId::from_uuid(path.org_id), query.0).await?.into()))
}
