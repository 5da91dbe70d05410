//! Which API-key scope each route needs: one table, by method and route pattern, read by the
//! bearer extractors (and written into the OpenAPI document). A route missing here refuses every
//! API key (403 `insufficient_scope`): credential management (keys, password, sessions, logout,
//! verification, second factors) and the audit log are deliberately absent.

use actix_web::HttpRequest;
use actix_web::http::Method;
use hexgate_domain::api_key::Scope;
use hexgate_ports::Caller;

/// What a route needs from a key: one scope, or one for the caller's own record and another for
/// someone else's (`profile:read` reads `GET /users/{own id}`, `users:read` anyone's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    Scope(Scope),
    OwnOrOthers { own: Scope, others: Scope },
}

/// The scope table: `(method, route pattern, need)`.
pub(crate) const ROUTE_SCOPES: &[(&str, &str, Need)] = &[
    ("GET", "/api/v1/users/me", Need::Scope(Scope::ProfileRead)),
    ("PATCH", "/api/v1/users/me", Need::Scope(Scope::ProfileWrite)),
    ("GET", "/api/v1/users", Need::Scope(Scope::UsersRead)),
    ("POST", "/api/v1/users", Need::Scope(Scope::UsersWrite)),
    ("POST", "/api/v1/users/batch", Need::Scope(Scope::UsersWrite)),
    ("GET", "/api/v1/users/{id}", Need::OwnOrOthers { own: Scope::ProfileRead, others: Scope::UsersRead }),
    ("PATCH", "/api/v1/users/{id}", Need::OwnOrOthers { own: Scope::ProfileWrite, others: Scope::UsersWrite }),
    ("DELETE", "/api/v1/users/{id}", Need::Scope(Scope::UsersWrite)),
    ("PUT", "/api/v1/users/{id}/permissions", Need::Scope(Scope::UsersWrite)),
    ("GET", "/api/v1/users/{id}/preferences", Need::OwnOrOthers { own: Scope::ProfileRead, others: Scope::UsersRead }),
    (
        "PUT",
        "/api/v1/users/{id}/preferences",
        Need::OwnOrOthers { own: Scope::ProfileWrite, others: Scope::UsersWrite },
    ),
    ("GET", "/api/v1/users/{id}/related", Need::OwnOrOthers { own: Scope::ProfileRead, others: Scope::UsersRead }),
    ("POST", "/api/v1/products", Need::Scope(Scope::ProductsWrite)),
    ("PATCH", "/api/v1/products/{id}", Need::Scope(Scope::ProductsWrite)),
    ("DELETE", "/api/v1/products/{id}", Need::Scope(Scope::ProductsWrite)),
    ("GET", "/api/v1/orders", Need::Scope(Scope::OrdersRead)),
    ("POST", "/api/v1/orders", Need::Scope(Scope::OrdersWrite)),
    ("GET", "/api/v1/orders/{id}", Need::Scope(Scope::OrdersRead)),
    ("POST", "/api/v1/orders/{id}/cancel", Need::Scope(Scope::OrdersWrite)),
    ("POST", "/api/v1/files", Need::Scope(Scope::FilesWrite)),
    ("GET", "/api/v1/files/{id}", Need::Scope(Scope::FilesRead)),
    ("DELETE", "/api/v1/files/{id}", Need::Scope(Scope::FilesWrite)),
    ("GET", "/api/v1/files/{id}/content", Need::Scope(Scope::FilesRead)),
    ("GET", "/api/v1/tasks/{id}", Need::Scope(Scope::FilesRead)),
    // Organizations. Minting an organization token and reading an organization's audit log are
    // absent: like credential management and the audit log, only a session does them.
    ("GET", "/api/v1/orgs", Need::Scope(Scope::OrgsRead)),
    ("POST", "/api/v1/orgs", Need::Scope(Scope::OrgsWrite)),
    ("GET", "/api/v1/orgs/{org_id}", Need::Scope(Scope::OrgsRead)),
    ("PATCH", "/api/v1/orgs/{org_id}", Need::Scope(Scope::OrgsWrite)),
    ("DELETE", "/api/v1/orgs/{org_id}", Need::Scope(Scope::OrgsWrite)),
    ("GET", "/api/v1/orgs/{org_id}/members", Need::Scope(Scope::OrgsRead)),
    ("PUT", "/api/v1/orgs/{org_id}/members/{user_id}", Need::Scope(Scope::OrgsWrite)),
    ("DELETE", "/api/v1/orgs/{org_id}/members/{user_id}", Need::Scope(Scope::OrgsWrite)),
    ("GET", "/api/v1/orgs/{org_id}/invitations", Need::Scope(Scope::OrgsRead)),
    ("POST", "/api/v1/orgs/{org_id}/invitations", Need::Scope(Scope::OrgsWrite)),
    ("DELETE", "/api/v1/orgs/{org_id}/invitations/{id}", Need::Scope(Scope::OrgsWrite)),
    ("POST", "/api/v1/invitations/accept", Need::Scope(Scope::OrgsWrite)),
];

/// What `method pattern` needs from a key; `None`: no key may use it.
pub(crate) fn need_of(method: &str, pattern: &str) -> Option<Need> {
    ROUTE_SCOPES.iter().find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == pattern).map(|(_, _, need)| *need)
}

/// The scope this request needs from `caller`'s key, if any scope covers it.
pub(crate) fn required_scope(req: &HttpRequest, caller: &Caller) -> Option<Scope> {
    let pattern = req.match_pattern()?;
    let method = req.method();
    let method = if method == Method::HEAD { "GET" } else { method.as_str() };
    match need_of(method, &pattern)? {
        Need::Scope(scope) => Some(scope),
        Need::OwnOrOthers { own, others } => {
            let target = req.match_info().get("id").and_then(|id| uuid::Uuid::parse_str(id).ok());
            Some(if target == Some(caller.user.id.as_uuid()) { own } else { others })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_management_and_the_audit_log_need_a_session() {
        for (method, pattern) in [
            ("POST", "/api/v1/auth/api-keys"),
            ("GET", "/api/v1/auth/api-keys"),
            ("DELETE", "/api/v1/auth/api-keys/{id}"),
            ("POST", "/api/v1/auth/password"),
            ("GET", "/api/v1/auth/sessions"),
            ("DELETE", "/api/v1/auth/sessions/{id}"),
            ("POST", "/api/v1/auth/logout"),
            ("GET", "/api/v1/audit-events"),
            ("GET", "/api/v1/users/me/audit-events"),
            ("POST", "/api/v1/orgs/{org_id}/token"),
            ("GET", "/api/v1/orgs/{org_id}/audit-events"),
            ("GET", "/api/v1/auth/mfa"),
            ("POST", "/api/v1/auth/mfa/totp"),
            ("POST", "/api/v1/auth/mfa/totp/confirm"),
            ("POST", "/api/v1/auth/mfa/totp/disable"),
            ("POST", "/api/v1/auth/mfa/recovery-codes"),
            ("GET", "/api/v1/auth/passkeys"),
            ("POST", "/api/v1/auth/passkeys/register/start"),
            ("POST", "/api/v1/auth/passkeys/register/finish"),
            ("DELETE", "/api/v1/auth/passkeys/{id}"),
            ("DELETE", "/api/v1/users/{id}/second-factors"),
        ] {
            assert_eq!(need_of(method, pattern), None, "{method} {pattern}");
        }
        assert_eq!(need_of("get", "/api/v1/users/me"), Some(Need::Scope(Scope::ProfileRead)));
    }

    #[test]
    fn each_route_is_listed_once() {
        let mut keys: Vec<(&str, &str)> = ROUTE_SCOPES.iter().map(|(m, p, _)| (*m, *p)).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), ROUTE_SCOPES.len());
    }
}
