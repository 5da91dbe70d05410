mod api_keys;
mod audit;
mod auth;
mod commerce;
mod files;
mod keys;
mod mfa;
mod orgs;
mod passkeys;
mod system;
mod users;

use apistos::web::{ServiceConfig, delete, get, patch, post, put, resource, scope};

/// Every documented route. Literal segments (`/me`, `/batch`) come before `/{id}` so a method
/// they lack is a 405, never a bad id.
pub(crate) fn configure(cfg: &mut ServiceConfig) {
    cfg.service(resource("/health").route(get().to(system::health)))
        .service(resource("/ready").route(get().to(system::ready)))
        .service(resource("/.well-known/jwks.json").route(get().to(keys::jwks)))
        .service(resource("/.well-known/openid-configuration").route(get().to(keys::openid_configuration)))
        .service(
            scope("/api/v1/admin/signing-keys")
                .service(resource("").route(get().to(keys::list_signing_keys)))
                .service(resource("/rotate").route(post().to(keys::rotate_signing_key))),
        )
        .service(
            scope("/api/v1/auth")
                .service(resource("/token").route(post().to(auth::token)))
                .service(resource("/refresh").route(post().to(auth::refresh)))
                .service(resource("/logout").route(post().to(auth::logout)))
                .service(resource("/password").route(post().to(auth::change_password)))
                .service(resource("/sessions").route(get().to(auth::list_sessions)))
                .service(resource("/sessions/{id}").route(delete().to(auth::revoke_session)))
                .service(resource("/forgot-password").route(post().to(auth::forgot_password)))
                .service(resource("/reset-password").route(post().to(auth::reset_password)))
                .service(resource("/verify/request").route(post().to(auth::request_verification)))
                .service(resource("/verify").route(post().to(auth::verify_email)))
                .service(
                    resource("/api-keys")
                        .route(get().to(api_keys::list_api_keys))
                        .route(post().to(api_keys::create_api_key)),
                )
                .service(resource("/api-keys/{id}").route(delete().to(api_keys::revoke_api_key)))
                .service(resource("/mfa").route(get().to(mfa::mfa_status)))
                .service(resource("/mfa/totp").route(post().to(mfa::start_totp)))
                .service(resource("/mfa/totp/confirm").route(post().to(mfa::confirm_totp)))
                .service(resource("/mfa/totp/disable").route(post().to(mfa::disable_totp)))
                .service(resource("/mfa/recovery-codes").route(post().to(mfa::regenerate_recovery_codes)))
                .service(resource("/mfa/verify").route(post().to(mfa::verify_mfa)))
                .service(resource("/passkeys").route(get().to(passkeys::list_passkeys)))
                .service(resource("/passkeys/register/start").route(post().to(passkeys::register_start)))
                .service(resource("/passkeys/register/finish").route(post().to(passkeys::register_finish)))
                .service(resource("/passkeys/login/start").route(post().to(passkeys::login_start)))
                .service(resource("/passkeys/login/finish").route(post().to(passkeys::login_finish)))
                .service(resource("/passkeys/{id}").route(delete().to(passkeys::delete_passkey))),
        )
        .service(resource("/api/v1/audit-events").route(get().to(audit::list_audit_events)))
        .service(
            scope("/api/v1/users")
                .service(resource("").route(get().to(users::list_users)).route(post().to(users::create_user)))
                .service(resource("/me").route(get().to(users::read_me)).route(patch().to(users::update_me)))
                .service(resource("/me/audit-events").route(get().to(audit::list_my_audit_events)))
                .service(resource("/batch").route(post().to(users::create_users_batch)))
                .service(
                    resource("/{id}")
                        .route(get().to(users::read_user))
                        .route(patch().to(users::update_user))
                        .route(delete().to(users::delete_user)),
                )
                .service(resource("/{id}/permissions").route(put().to(users::set_permissions)))
                .service(
                    resource("/{id}/preferences")
                        .route(get().to(commerce::read_preferences))
                        .route(put().to(commerce::update_preferences)),
                )
                .service(resource("/{id}/related").route(get().to(commerce::read_related)))
                .service(resource("/{id}/second-factors").route(delete().to(mfa::reset_second_factors))),
        )
        .service(
            scope("/api/v1/products")
                .service(
                    resource("").route(get().to(commerce::list_products)).route(post().to(commerce::create_product)),
                )
                .service(
                    resource("/{id}")
                        .route(get().to(commerce::read_product))
                        .route(patch().to(commerce::update_product))
                        .route(delete().to(commerce::delete_product)),
                ),
        )
        .service(
            scope("/api/v1/orders")
                .service(resource("").route(get().to(commerce::list_orders)).route(post().to(commerce::create_order)))
                .service(resource("/{id}").route(get().to(commerce::read_order)))
                .service(resource("/{id}/cancel").route(post().to(commerce::cancel_order))),
        )
        .service(
            scope("/api/v1/files")
                .service(resource("").route(post().to(files::upload_file)))
                .service(resource("/{id}").route(get().to(files::read_file)).route(delete().to(files::delete_file)))
                .service(resource("/{id}/content").route(get().to(files::download_file))),
        )
        .service(scope("/api/v1/tasks").service(resource("/{id}").route(get().to(files::read_task))))
        .service(
            scope("/api/v1/orgs")
                .service(resource("").route(get().to(orgs::list_orgs)).route(post().to(orgs::create_org)))
                .service(
                    resource("/{org_id}")
                        .route(get().to(orgs::read_org))
                        .route(patch().to(orgs::update_org))
                        .route(delete().to(orgs::delete_org)),
                )
                .service(resource("/{org_id}/members").route(get().to(orgs::list_members)))
                .service(
                    resource("/{org_id}/members/{user_id}")
                        .route(put().to(orgs::update_member))
                        .route(delete().to(orgs::remove_member)),
                )
                .service(
                    resource("/{org_id}/invitations")
                        .route(get().to(orgs::list_invitations))
                        .route(post().to(orgs::create_invitation)),
                )
                .service(resource("/{org_id}/invitations/{id}").route(delete().to(orgs::revoke_invitation)))
                .service(resource("/{org_id}/token").route(post().to(orgs::org_token)))
                .service(resource("/{org_id}/audit-events").route(get().to(orgs::list_org_audit_events))),
        )
        .service(resource("/api/v1/invitations/accept").route(post().to(orgs::accept_invitation)));
}
