//! Organizations (multi-tenancy): every row of the contract's table, the cross-tenant matrix
//! (every org route as a member, a non-member and with an unknown id), the mailed invitation
//! flow, the two races (owners demoting each other, one invitation accepted twice) and an
//! organization token verified against the JWKS by hand.

use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{TestApp, Tokens, error_code, error_shape, fields};
use crate::signing_keys::{part, verifies_with};

const ORGS: &str = "/api/v1/orgs";
const ACCEPT: &str = "/api/v1/invitations/accept";

/// The token in a mail's link (`…?token=<token>`); the body is quoted-printable.
fn token_in(mail: &str) -> String {
    let mail = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// A signed-up user whose address is verified through the mailed link.
async fn verified_user(app: &TestApp, name: &str) -> (Value, Tokens) {
    let (user, tokens) = app.user(name).await;
    let res =
        app.request(Method::POST, "/api/v1/auth/verify/request", Some(&tokens.access)).send().await.expect("send");
    assert_eq!(res.status(), 202);
    let mail = app.wait_for_mail(&format!("{name}@example.com"), "Confirm your e-mail address").await;
    let res = app.post_json("/api/v1/auth/verify", None, &json!({"token": token_in(&mail)})).await;
    assert_eq!(res.status(), 200, "verification of {name}");
    (user, tokens)
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

async fn create_org(app: &TestApp, token: &str, name: &str, slug: &str) -> Value {
    let res = app.post_json(ORGS, Some(token), &json!({"name": name, "slug": slug})).await;
    assert_eq!(res.status(), 201, "create {slug}");
    res.json().await.expect("json")
}

/// Invites `email` as `role` and returns the created invitation.
async fn invite(app: &TestApp, token: &str, org: &str, email: &str, role: &str) -> Value {
    let res =
        app.post_json(&format!("{ORGS}/{org}/invitations"), Some(token), &json!({"email": email, "role": role})).await;
    assert_eq!(res.status(), 201, "invite {email} as {role}");
    res.json().await.expect("json")
}

/// The tokens of the invitation mails to `email` into the organization `org_name`, once there
/// are at least `n` of them.
async fn mailed_tokens(app: &TestApp, email: &str, org_name: &str, n: usize) -> Vec<String> {
    let subject = format!("You are invited to join {org_name} on hexgate");
    for _ in 0..200 {
        let tokens: Vec<String> = app
            .mails()
            .into_iter()
            .filter(|m| m.contains(&format!("To: {email}")) && m.contains(&subject))
            .map(|m| token_in(&m))
            .collect();
        if tokens.len() >= n {
            return tokens;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} invitation mails to {email} for {org_name}");
}

/// The token of the first invitation mail to `email` into `org_name`.
async fn mailed_token(app: &TestApp, email: &str, org_name: &str) -> String {
    mailed_tokens(app, email, org_name, 1).await.remove(0)
}

/// The token of the `n`th invitation mail to `email` into `org_name`: the one not in `used`.
async fn new_mailed_token(app: &TestApp, email: &str, org_name: &str, used: &[String]) -> String {
    let tokens = mailed_tokens(app, email, org_name, used.len() + 1).await;
    tokens.into_iter().find(|t| !used.contains(t)).expect("a new token")
}

/// Makes `member` (verified, signed in) a member of `org` with `role` through a mailed invitation.
async fn join(app: &TestApp, owner: &str, org: &Value, member: &str, member_token: &str, role: &str) {
    let email = format!("{member}@example.com");
    invite(app, owner, &id_of(org), &email, role).await;
    let token = mailed_token(app, &email, org["name"].as_str().expect("name")).await;
    let res = app.post_json(ACCEPT, Some(member_token), &json!({"token": token})).await;
    assert_eq!(res.status(), 200, "{member} joins as {role}");
}

async fn put_role(app: &TestApp, token: &str, org: &str, user: &str, role: &str) -> Response {
    app.send_json(Method::PUT, &format!("{ORGS}/{org}/members/{user}"), Some(token), &json!({"role": role})).await
}

async fn members(app: &TestApp, token: &str, org: &str) -> Vec<Value> {
    let res = app.get(&format!("{ORGS}/{org}/members"), Some(token)).await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

fn role_of(members: &[Value], user: &str) -> Option<String> {
    members.iter().find(|m| m["user_id"] == user).map(|m| m["role"].as_str().expect("role").to_owned())
}

/// An owner (ada), an admin (bob) and a member (cat) in one organization.
struct Team {
    org_id: String,
    owner: (Value, Tokens),
    admin: (Value, Tokens),
    member: (Value, Tokens),
}

async fn team(app: &TestApp, slug: &str) -> Team {
    let owner = app.user(&format!("{slug}-ada")).await;
    let org = create_org(app, &owner.1.access, &format!("Team {slug}"), slug).await;
    let admin = verified_user(app, &format!("{slug}-bob")).await;
    let member = verified_user(app, &format!("{slug}-cat")).await;
    join(app, &owner.1.access, &org, &format!("{slug}-bob"), &admin.1.access, "admin").await;
    join(app, &owner.1.access, &org, &format!("{slug}-cat"), &member.1.access, "member").await;
    Team { org_id: id_of(&org), owner, admin, member }
}

#[actix_web::test]
async fn creating_listing_reading_and_renaming_an_organization_follow_the_contract() {
    let app = TestApp::spawn().await;
    let (_, ada) = app.user("ada").await;
    let org = create_org(&app, &ada.access, "Acme Corp", "acme").await;
    assert_eq!(
        (org["name"].as_str(), org["slug"].as_str(), org["role"].as_str()),
        (Some("Acme Corp"), Some("acme"), Some("owner"))
    );
    assert!(uuid::Uuid::parse_str(&id_of(&org)).is_ok());
    assert!(chrono::DateTime::parse_from_rfc3339(org["created_at"].as_str().expect("at")).is_ok());

    // The slug is unique; the name and slug follow their rules (every failing field reported).
    let (_, bob) = app.user("bob").await;
    error_code(
        app.post_json(ORGS, Some(&bob.access), &json!({"name": "Other", "slug": "acme"})).await,
        409,
        "conflict",
    )
    .await;
    let bad = error_code(
        app.post_json(ORGS, Some(&bob.access), &json!({"name": " ", "slug": "Acme"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(fields(&bad), ["body.name", "body.slug"]);
    for slug in ["ab", "a_b_c", &"a".repeat(41)] {
        let res = app.post_json(ORGS, Some(&bob.access), &json!({"name": "x", "slug": slug})).await;
        error_code(res, 422, "validation_failed").await;
    }
    error_code(app.post_json(ORGS, None, &json!({"name": "x", "slug": "xyz"})).await, 401, "not_authenticated").await;

    // Listed with the caller's role; others' organizations are not listed.
    create_org(&app, &bob.access, "Bob's", "bobs").await;
    let mine: Vec<Value> = app.get(ORGS, Some(&ada.access)).await.json().await.expect("json");
    assert_eq!(mine.len(), 1);
    assert_eq!((mine[0]["slug"].as_str(), mine[0]["role"].as_str()), (Some("acme"), Some("owner")));

    let path = format!("{ORGS}/{}", id_of(&org));
    let read: Value = app.get(&path, Some(&ada.access)).await.json().await.expect("json");
    assert_eq!(read, org);

    let renamed = app.send_json(Method::PATCH, &path, Some(&ada.access), &json!({"name": "Acme Corporation"})).await;
    assert_eq!(renamed.status(), 200);
    let renamed: Value = renamed.json().await.expect("json");
    assert_eq!((renamed["name"].as_str(), renamed["slug"].as_str()), (Some("Acme Corporation"), Some("acme")));
    let extra = app.send_json(Method::PATCH, &path, Some(&ada.access), &json!({"name": "x", "slug": "new"})).await;
    error_code(extra, 422, "validation_failed").await;
}

#[actix_web::test]
async fn roles_follow_the_contract_for_changes_removals_invitations_and_deletion() {
    let app = TestApp::spawn().await;
    let t = team(&app, "roles").await;
    let (org, owner, admin, member) = (&t.org_id, &t.owner.1.access, &t.admin.1.access, &t.member.1.access);
    let (owner_id, admin_id, member_id) = (id_of(&t.owner.0), id_of(&t.admin.0), id_of(&t.member.0));
    let listed = members(&app, member, org).await;
    assert_eq!(listed.len(), 3, "every member reads the members");
    assert_eq!(role_of(&listed, &owner_id).as_deref(), Some("owner"));
    let first = &listed[0];
    assert_eq!(first["username"], "roles-ada");
    assert_eq!(first["email"], "roles-ada@example.com");
    assert!(chrono::DateTime::parse_from_rfc3339(first["joined_at"].as_str().expect("at")).is_ok());

    // A member reads but manages nothing.
    assert_eq!(app.get(&format!("{ORGS}/{org}"), Some(member)).await.status(), 200);
    let patch = app.send_json(Method::PATCH, &format!("{ORGS}/{org}"), Some(member), &json!({"name": "x"})).await;
    error_code(patch, 403, "insufficient_permissions").await;
    error_code(put_role(&app, member, org, &member_id, "admin").await, 403, "insufficient_permissions").await;
    error_code(
        app.delete(&format!("{ORGS}/{org}/members/{admin_id}"), Some(member)).await,
        403,
        "insufficient_permissions",
    )
    .await;
    let inv = app
        .post_json(
            &format!("{ORGS}/{org}/invitations"),
            Some(member),
            &json!({"email": "x@example.com", "role": "member"}),
        )
        .await;
    error_code(inv, 403, "insufficient_permissions").await;
    error_code(app.get(&format!("{ORGS}/{org}/invitations"), Some(member)).await, 403, "insufficient_permissions")
        .await;
    error_code(app.get(&format!("{ORGS}/{org}/audit-events"), Some(member)).await, 403, "insufficient_permissions")
        .await;
    error_code(app.delete(&format!("{ORGS}/{org}"), Some(member)).await, 403, "insufficient_permissions").await;

    // An admin moves people between member and admin only, renames, and never touches an owner.
    let res = put_role(&app, admin, org, &member_id, "admin").await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.expect("json");
    assert_eq!((changed["user_id"].as_str(), changed["role"].as_str()), (Some(member_id.as_str()), Some("admin")));
    assert_eq!(put_role(&app, admin, org, &member_id, "member").await.status(), 200);
    error_code(put_role(&app, admin, org, &member_id, "owner").await, 403, "insufficient_permissions").await;
    error_code(put_role(&app, admin, org, &owner_id, "member").await, 403, "insufficient_permissions").await;
    error_code(
        app.delete(&format!("{ORGS}/{org}/members/{owner_id}"), Some(admin)).await,
        403,
        "insufficient_permissions",
    )
    .await;
    let owner_inv = app
        .post_json(
            &format!("{ORGS}/{org}/invitations"),
            Some(admin),
            &json!({"email": "x@example.com", "role": "owner"}),
        )
        .await;
    error_code(owner_inv, 403, "insufficient_permissions").await;
    invite(&app, admin, org, "y@example.com", "admin").await;
    error_code(app.delete(&format!("{ORGS}/{org}"), Some(admin)).await, 403, "insufficient_permissions").await;
    let renamed =
        app.send_json(Method::PATCH, &format!("{ORGS}/{org}"), Some(admin), &json!({"name": "Renamed"})).await;
    assert_eq!(renamed.status(), 200);
    // Unknown members and bad roles.
    let stranger = uuid::Uuid::now_v7();
    error_code(put_role(&app, owner, org, &stranger.to_string(), "admin").await, 404, "not_found").await;
    error_code(app.delete(&format!("{ORGS}/{org}/members/{stranger}"), Some(owner)).await, 404, "not_found").await;
    error_code(put_role(&app, owner, org, &member_id, "king").await, 422, "validation_failed").await;

    // The last owner can be neither demoted nor removed, nor leave; with a second owner they can.
    error_code(put_role(&app, owner, org, &owner_id, "admin").await, 409, "last_owner").await;
    error_code(app.delete(&format!("{ORGS}/{org}/members/{owner_id}"), Some(owner)).await, 409, "last_owner").await;
    assert_eq!(owner_inv_status(&app, owner, org).await, 201, "an owner may invite an owner");
    assert_eq!(put_role(&app, owner, org, &admin_id, "owner").await.status(), 200);
    assert_eq!(put_role(&app, admin, org, &owner_id, "admin").await.status(), 200, "owners demote owners");
    error_code(put_role(&app, admin, org, &admin_id, "member").await, 409, "last_owner").await;

    // Removal and leaving.
    assert_eq!(
        app.delete(&format!("{ORGS}/{org}/members/{member_id}"), Some(member)).await.status(),
        204,
        "a member leaves"
    );
    error_code(app.get(&format!("{ORGS}/{org}"), Some(member)).await, 404, "not_found").await;
    assert_eq!(
        app.delete(&format!("{ORGS}/{org}/members/{owner_id}"), Some(admin)).await.status(),
        204,
        "an owner removes an admin"
    );
    assert_eq!(members(&app, admin, org).await.len(), 1);

    // Deletion: owners only; memberships and invitations go with it.
    assert_eq!(app.delete(&format!("{ORGS}/{org}"), Some(admin)).await.status(), 204);
    error_code(app.get(&format!("{ORGS}/{org}"), Some(admin)).await, 404, "not_found").await;
    let left: Vec<Value> = app.get(ORGS, Some(admin)).await.json().await.expect("json");
    assert!(left.is_empty());
    for table in ["org_memberships", "org_invitations"] {
        assert_eq!(count(&app, &format!("SELECT COUNT(*) FROM {table}")).await, 0, "{table} emptied");
    }
}

async fn owner_inv_status(app: &TestApp, owner: &str, org: &str) -> u16 {
    app.post_json(
        &format!("{ORGS}/{org}/invitations"),
        Some(owner),
        &json!({"email": "boss@example.com", "role": "owner"}),
    )
    .await
    .status()
    .as_u16()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.expect("query");
    let n = row.and_then(|r| r.try_get_by_index::<i64>(0).ok()).expect("a count");
    db.close().await.ok();
    n
}

#[actix_web::test]
async fn the_mailed_invitation_makes_a_member_once_for_the_verified_invited_address_only() {
    let app = TestApp::spawn_with(&[("PUBLIC_BASE_URL", "https://app.example.com")]).await;
    let (_, ada) = app.user("inviter").await;
    let org = create_org(&app, &ada.access, "Mailers", "mailers").await;
    let org_id = id_of(&org);
    let (grace, grace_tokens) = verified_user(&app, "grace").await;

    let created = invite(&app, &ada.access, &org_id, "Grace@Example.com", "admin").await;
    assert_eq!((created["email"].as_str(), created["role"].as_str()), (Some("grace@example.com"), Some("admin")));
    let expires = chrono::DateTime::parse_from_rfc3339(created["expires_at"].as_str().expect("at")).expect("rfc3339");
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_hours();
    assert!((167..=168).contains(&days), "valid 7 days: {days} h");
    assert!(created.get("token").is_none(), "the token is only in the mail");
    let pending: Vec<Value> =
        app.get(&format!("{ORGS}/{org_id}/invitations"), Some(&ada.access)).await.json().await.expect("json");
    assert_eq!(pending, vec![created.clone()]);

    let mail = app.wait_for_mail("grace@example.com", "You are invited to join Mailers on hexgate").await;
    assert!(mail.contains("https://app.example.com/invitations/accept?token="), "{mail}");
    let token = token_in(&mail);
    let stored = count(&app, "SELECT COUNT(*) FROM org_invitations WHERE token_hash IS NOT NULL").await;
    assert_eq!(stored, 1);
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM org_invitations WHERE token_hash = '{token}'")).await,
        0,
        "stored hashed"
    );

    // Someone else, or the right address unverified, may not use it.
    let (_, mallory) = verified_user(&app, "mallory").await;
    error_code(
        app.post_json(ACCEPT, Some(&mallory.access), &json!({"token": token})).await,
        403,
        "insufficient_permissions",
    )
    .await;
    error_code(app.post_json(ACCEPT, None, &json!({"token": token})).await, 401, "not_authenticated").await;

    let res = app.post_json(ACCEPT, Some(&grace_tokens.access), &json!({"token": token})).await;
    assert_eq!(res.status(), 200);
    let membership: Value = res.json().await.expect("json");
    assert_eq!(membership["org_id"], org_id.as_str());
    assert_eq!(membership["user_id"], grace["id"]);
    assert_eq!(membership["role"], "admin");
    assert_eq!(membership["email"], "grace@example.com");
    error_code(app.post_json(ACCEPT, Some(&grace_tokens.access), &json!({"token": token})).await, 400, "invalid_token")
        .await;
    error_code(
        app.post_json(ACCEPT, Some(&grace_tokens.access), &json!({"token": "bogus"})).await,
        400,
        "invalid_token",
    )
    .await;
    error_code(
        app.post_json(ACCEPT, Some(&grace_tokens.access), &json!({"token": ""})).await,
        422,
        "validation_failed",
    )
    .await;
    let pending: Vec<Value> =
        app.get(&format!("{ORGS}/{org_id}/invitations"), Some(&ada.access)).await.json().await.expect("json");
    assert!(pending.is_empty(), "an accepted invitation is no longer pending");
    assert_eq!(
        role_of(&members(&app, &grace_tokens.access, &org_id).await, grace["id"].as_str().expect("id")).as_deref(),
        Some("admin")
    );

    // An unverified address matching the invitation is refused too.
    let (_, ursula) = app.user("ursula").await;
    invite(&app, &ada.access, &org_id, "ursula@example.com", "member").await;
    let ursula_token = mailed_token(&app, "ursula@example.com", "Mailers").await;
    error_code(
        app.post_json(ACCEPT, Some(&ursula.access), &json!({"token": ursula_token})).await,
        403,
        "insufficient_permissions",
    )
    .await;

    // A revoked invitation's token dies; revoking twice is 404.
    let second = invite(&app, &ada.access, &org_id, "mallory@example.com", "member").await;
    let mallory_token = mailed_token(&app, "mallory@example.com", "Mailers").await;
    let path = format!("{ORGS}/{org_id}/invitations/{}", id_of(&second));
    assert_eq!(app.delete(&path, Some(&ada.access)).await.status(), 204);
    error_code(app.delete(&path, Some(&ada.access)).await, 404, "not_found").await;
    error_code(
        app.post_json(ACCEPT, Some(&mallory.access), &json!({"token": mallory_token})).await,
        400,
        "invalid_token",
    )
    .await;

    // An expired one is refused and no longer listed.
    let (_, ed) = verified_user(&app, "edward").await;
    invite(&app, &ada.access, &org_id, "edward@example.com", "member").await;
    let ed_token = mailed_token(&app, "edward@example.com", "Mailers").await;
    expire_invitations(&app).await;
    error_code(app.post_json(ACCEPT, Some(&ed.access), &json!({"token": ed_token})).await, 400, "invalid_token").await;
    let pending: Vec<Value> =
        app.get(&format!("{ORGS}/{org_id}/invitations"), Some(&ada.access)).await.json().await.expect("json");
    assert!(pending.is_empty(), "expired invitations are not pending: {pending:?}");

    // A member already: 409, the invitation stays usable by nobody else anyway.
    invite(&app, &ada.access, &org_id, "grace@example.com", "member").await;
    let again = new_mailed_token(&app, "grace@example.com", "Mailers", std::slice::from_ref(&token)).await;
    error_code(app.post_json(ACCEPT, Some(&grace_tokens.access), &json!({"token": again})).await, 409, "conflict")
        .await;
}

async fn expire_invitations(app: &TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    let backend = db.get_database_backend();
    let past = chrono::Utc::now() - chrono::Duration::days(1);
    let sql = if backend == sea_orm::DbBackend::Postgres {
        "UPDATE org_invitations SET expires_at = $1 WHERE accepted_at IS NULL"
    } else {
        "UPDATE org_invitations SET expires_at = ? WHERE accepted_at IS NULL"
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [past.into()])).await.expect("update");
    db.close().await.ok();
}

/// Status and body of a response with its request id blanked: what must be byte-identical for a
/// non-member and an unknown id.
async fn answer(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let mut body: Value = res.json().await.unwrap_or(Value::Null);
    if body.get("request_id").is_some() {
        body["request_id"] = Value::Null;
    }
    (status, body)
}

#[actix_web::test]
async fn non_members_and_unknown_ids_get_identical_404s_on_every_organization_route() {
    let app = TestApp::spawn().await;
    let t = team(&app, "matrix").await;
    let invitation = invite(&app, &t.owner.1.access, &t.org_id, "z@example.com", "member").await;
    let (_, outsider) = app.user("outsider").await;
    // The outsider owns an organization of their own: being an owner elsewhere grants nothing.
    create_org(&app, &outsider.access, "Elsewhere", "elsewhere").await;
    let member_id = id_of(&t.member.0);
    let unknown = uuid::Uuid::now_v7().to_string();
    let routes: Vec<(Method, String, Option<Value>, u16)> = vec![
        (Method::GET, "".into(), None, 200),
        (Method::PATCH, "".into(), Some(json!({"name": "New"})), 200),
        (Method::GET, "/members".into(), None, 200),
        (Method::PUT, format!("/members/{member_id}"), Some(json!({"role": "member"})), 200),
        (Method::GET, "/invitations".into(), None, 200),
        (Method::POST, "/invitations".into(), Some(json!({"email": "w@example.com", "role": "member"})), 201),
        (Method::DELETE, format!("/invitations/{}", id_of(&invitation)), None, 204),
        (Method::POST, "/token".into(), None, 200),
        (Method::GET, "/audit-events".into(), None, 200),
        (Method::DELETE, format!("/members/{member_id}"), None, 204),
        (Method::DELETE, "".into(), None, 204),
    ];
    for (method, tail, body, member_status) in &routes {
        let send = |org: &str, token: &str| {
            let mut req = app.request(method.clone(), &format!("{ORGS}/{org}{tail}"), Some(token));
            if let Some(body) = body {
                req = req.json(body);
            }
            req.send()
        };
        let stranger = answer(send(&t.org_id, &outsider.access).await.expect("send")).await;
        let missing = answer(send(&unknown, &outsider.access).await.expect("send")).await;
        let member_missing = answer(send(&unknown, &t.owner.1.access).await.expect("send")).await;
        assert_eq!(stranger.0, 404, "{method} {tail}: a non-member gets 404: {stranger:?}");
        assert_eq!(stranger.1["code"], "not_found");
        assert_eq!(stranger.1["detail"], "Organization not found");
        assert_eq!(stranger, missing, "{method} {tail}: non-member and unknown id answer alike");
        assert_eq!(member_missing, missing, "{method} {tail}: whoever asks about an unknown id");
        // And the real thing, for a member allowed to do it (the owner; cat leaves by herself).
        let token = if tail.starts_with("/members/") && *method == Method::DELETE {
            &t.member.1.access
        } else {
            &t.owner.1.access
        };
        let res = send(&t.org_id, token).await.expect("send");
        assert_eq!(res.status().as_u16(), *member_status, "{method} {tail} as a member");
    }
    // After deletion the former members get the same 404 as everyone.
    let gone = answer(app.get(&format!("{ORGS}/{}", t.org_id), Some(&t.admin.1.access)).await).await;
    let missing = answer(app.get(&format!("{ORGS}/{unknown}"), Some(&t.admin.1.access)).await).await;
    assert_eq!(gone, missing);
    error_shape(app.get(&format!("{ORGS}/{unknown}"), Some(&t.admin.1.access)).await, 404).await;
}

#[actix_web::test]
async fn two_owners_demoting_each_other_at_once_always_leave_one_owner() {
    let app = TestApp::spawn().await;
    let (ada, ada_t) = app.user("race-ada").await;
    let org = create_org(&app, &ada_t.access, "Racers", "racers").await;
    let org_id = id_of(&org);
    let (bob, bob_t) = verified_user(&app, "race-bob").await;
    join(&app, &ada_t.access, &org, "race-bob", &bob_t.access, "owner").await;
    let (ada_id, bob_id) = (id_of(&ada), id_of(&bob));
    for round in 0..15 {
        let (a, b) = tokio::join!(
            put_role(&app, &ada_t.access, &org_id, &bob_id, "admin"),
            put_role(&app, &bob_t.access, &org_id, &ada_id, "admin"),
        );
        let statuses = [a.status().as_u16(), b.status().as_u16()];
        let listed = members(&app, &ada_t.access, &org_id).await;
        let owners: Vec<&Value> = listed.iter().filter(|m| m["role"] == "owner").collect();
        assert_eq!(owners.len(), 1, "round {round}: exactly one owner left ({statuses:?})");
        // The loser was demoted first, so its own demotion of the winner was refused: 403 (no
        // longer an owner) — or 409 had it still been one.
        assert!(
            statuses.contains(&200) && (statuses.contains(&403) || statuses.contains(&409)),
            "round {round}: {statuses:?}"
        );
        let winner = if owners[0]["user_id"] == ada_id.as_str() { &ada_t.access } else { &bob_t.access };
        let loser = if owners[0]["user_id"] == ada_id.as_str() { &bob_id } else { &ada_id };
        assert_eq!(put_role(&app, winner, &org_id, loser, "owner").await.status(), 200);
    }
    // The same race on leaving: both owners leave at once, one stays.
    let (ada_path, bob_path) =
        (format!("{ORGS}/{org_id}/members/{ada_id}"), format!("{ORGS}/{org_id}/members/{bob_id}"));
    let (a, b) = tokio::join!(app.delete(&ada_path, Some(&ada_t.access)), app.delete(&bob_path, Some(&bob_t.access)));
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [204, 409]);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM org_memberships WHERE role = 'owner'").await, 1);
}

#[actix_web::test]
async fn an_invitation_accepted_twice_at_once_makes_one_membership() {
    let app = TestApp::spawn().await;
    let (_, ada) = app.user("twice-ada").await;
    let org = create_org(&app, &ada.access, "Twice", "twice").await;
    let org_id = id_of(&org);
    let (_, grace) = verified_user(&app, "twice-grace").await;
    let grace_id = id_of(&app.get("/api/v1/users/me", Some(&grace.access)).await.json::<Value>().await.expect("json"));
    let mut used = Vec::new();
    for round in 1..=5 {
        invite(&app, &ada.access, &org_id, "twice-grace@example.com", "member").await;
        let token = new_mailed_token(&app, "twice-grace@example.com", "Twice", &used).await;
        used.push(token.clone());
        let body = json!({"token": token});
        let (a, b, c) = tokio::join!(
            app.post_json(ACCEPT, Some(&grace.access), &body),
            app.post_json(ACCEPT, Some(&grace.access), &body),
            app.post_json(ACCEPT, Some(&grace.access), &body),
        );
        let mut statuses = [a.status().as_u16(), b.status().as_u16(), c.status().as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 400, 400], "round {round}: one acceptance wins");
        let listed = members(&app, &ada.access, &org_id).await;
        assert_eq!(listed.len(), 2, "round {round}: one membership");
        assert_eq!(count(&app, "SELECT COUNT(*) FROM org_invitations WHERE accepted_at IS NOT NULL").await, 1);
        // Leave, so the next round's invitation can make a membership again.
        assert_eq!(app.delete(&format!("{ORGS}/{org_id}/members/{grace_id}"), Some(&grace.access)).await.status(), 204);
        use_up_invitations(&app).await;
    }
}

async fn use_up_invitations(app: &TestApp) {
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(&app.database_url).await.expect("connect");
    db.execute_unprepared("DELETE FROM org_invitations").await.expect("delete");
    db.close().await.ok();
}

#[actix_web::test]
async fn an_organization_token_names_the_tenant_and_verifies_against_the_jwks_by_hand() {
    let app = TestApp::spawn().await;
    let t = team(&app, "tokens").await;
    let res = app
        .request(Method::POST, &format!("{ORGS}/{}/token", t.org_id), Some(&t.admin.1.access))
        .send()
        .await
        .expect("send");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["token_type"], "bearer");
    assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0 && s <= 15 * 60));
    assert!(body.get("refresh_token").is_none(), "no refresh token");
    let token = body["access_token"].as_str().expect("token");

    let jwks: Value = app.get("/.well-known/jwks.json", None).await.json().await.expect("json");
    assert!(verifies_with(&jwks, token), "verifies from the JWKS with ed25519-dalek");
    let claims = part(token, 1);
    let session = part(&t.admin.1.access, 1);
    assert_eq!(claims["org_id"], t.org_id.as_str());
    assert_eq!(claims["org_role"], "admin");
    assert_eq!(claims["sub"], session["sub"]);
    assert_eq!(claims["sid"], session["sid"], "the same session");
    assert_eq!((claims["iss"].as_str(), claims["aud"].as_str()), (Some("hexgate"), Some("hexgate-api")));
    assert!(session.get("org_id").is_none(), "plain access tokens name no tenant");
    // Tampering with the tenant breaks the signature.
    let mut forged = claims.clone();
    forged["org_role"] = json!("owner");
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    use base64::Engine as _;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    assert!(!verifies_with(&jwks, &parts.join(".")));

    // It is an access token of the session: it works here, and ends with the session.
    assert_eq!(app.get("/api/v1/users/me", Some(token)).await.status(), 200);
    let member_token: Value = app
        .request(Method::POST, &format!("{ORGS}/{}/token", t.org_id), Some(&t.member.1.access))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(part(member_token["access_token"].as_str().expect("token"), 1)["org_role"], "member");
    let res = app
        .post_json("/api/v1/auth/logout", Some(&t.admin.1.access), &json!({"refresh_token": t.admin.1.refresh}))
        .await;
    assert_eq!(res.status(), 204);
    error_code(app.get("/api/v1/users/me", Some(token)).await, 401, "not_authenticated").await;
}

#[actix_web::test]
async fn organization_events_are_audited_with_their_org_id_and_paged_for_owners_and_admins() {
    let app = TestApp::spawn().await;
    let t = team(&app, "audited").await;
    let (owner, org) = (&t.owner.1.access, &t.org_id);
    let member_id = id_of(&t.member.0);
    assert_eq!(put_role(&app, owner, org, &member_id, "admin").await.status(), 200);
    assert_eq!(app.delete(&format!("{ORGS}/{org}/members/{member_id}"), Some(owner)).await.status(), 204);
    let other = create_org(&app, owner, "Unrelated", "unrelated").await;

    let res = app.get(&format!("{ORGS}/{org}/audit-events"), Some(&t.admin.1.access)).await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.expect("json");
    let items = page["items"].as_array().expect("items");
    assert!(items.iter().all(|e| e["org_id"] == org.as_str()), "only this organization's events");
    let types: Vec<&str> = items.iter().map(|e| e["type"].as_str().expect("type")).collect();
    assert_eq!(
        types,
        [
            "org_member_removed",
            "org_role_changed",
            "org_member_added",
            "org_invitation_created",
            "org_member_added",
            "org_invitation_created",
            "org_created",
        ],
        "newest first"
    );
    let changed = &items[1];
    assert_eq!(changed["details"], json!({"before": "member", "after": "admin"}));
    assert_eq!(changed["subject_id"], member_id.as_str());
    assert_eq!(changed["actor_id"], t.owner.0["id"]);
    assert!(!page.to_string().contains("token_hash"));

    // Paging as the audit log pages: limit and an opaque cursor bound to this listing.
    let first: Value =
        app.get(&format!("{ORGS}/{org}/audit-events?limit=3"), Some(owner)).await.json().await.expect("json");
    assert_eq!(first["items"].as_array().expect("items").len(), 3);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second: Value = app
        .get(&format!("{ORGS}/{org}/audit-events?limit=3&cursor={cursor}"), Some(owner))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(second["items"][0]["id"], items[3]["id"]);
    let foreign = app.get(&format!("{ORGS}/{}/audit-events?limit=3&cursor={cursor}", id_of(&other)), Some(owner)).await;
    error_code(foreign, 422, "validation_failed").await;
    error_code(app.get(&format!("{ORGS}/{org}/audit-events?limit=0"), Some(owner)).await, 422, "validation_failed")
        .await;
    // The admin's global log filters by org_id too.
    let admin = app.admin().await;
    let all: Value =
        app.get(&format!("/api/v1/audit-events?org_id={org}"), Some(&admin.access)).await.json().await.expect("json");
    assert_eq!(all["items"].as_array().expect("items").len(), items.len());
}

#[actix_web::test]
async fn api_keys_need_the_orgs_scopes_and_never_mint_organization_tokens() {
    let app = TestApp::spawn().await;
    let (_, ada) = app.user("keyed").await;
    let org = create_org(&app, &ada.access, "Keyed", "keyed").await;
    let key = |scopes: Value| {
        let app = &app;
        let token = ada.access.clone();
        async move {
            let res =
                app.post_json("/api/v1/auth/api-keys", Some(&token), &json!({"name": "k", "scopes": scopes})).await;
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.expect("json")["key"].as_str().expect("key").to_owned()
        }
    };
    let read = key(json!(["orgs:read"])).await;
    let write = key(json!(["orgs:write"])).await;
    let profile = key(json!(["profile:read"])).await;
    let path = format!("{ORGS}/{}", id_of(&org));
    assert_eq!(app.get(ORGS, Some(&read)).await.status(), 200);
    assert_eq!(app.get(&path, Some(&read)).await.status(), 200);
    assert_eq!(app.get(&format!("{path}/members"), Some(&write)).await.status(), 200, "write includes read");
    error_code(app.get(ORGS, Some(&profile)).await, 403, "insufficient_scope").await;
    error_code(
        app.post_json(ORGS, Some(&read), &json!({"name": "n", "slug": "by-key"})).await,
        403,
        "insufficient_scope",
    )
    .await;
    assert_eq!(app.post_json(ORGS, Some(&write), &json!({"name": "n", "slug": "by-key"})).await.status(), 201);
    for credential in [&read, &write] {
        let res = app.request(Method::POST, &format!("{path}/token"), Some(credential)).send().await.expect("send");
        error_code(res, 403, "insufficient_scope").await;
        error_code(app.get(&format!("{path}/audit-events"), Some(credential)).await, 403, "insufficient_scope").await;
    }
}

#[actix_web::test]
async fn the_openapi_document_describes_every_organization_route() {
    let app = TestApp::spawn().await;
    let doc: Value = app.get("/openapi.json", None).await.json().await.expect("json");
    let paths = &doc["paths"];
    for (path, method, id, statuses) in [
        ("/api/v1/orgs", "post", "create_org", &["201", "409", "422"][..]),
        ("/api/v1/orgs", "get", "list_orgs", &["200"][..]),
        ("/api/v1/orgs/{org_id}", "get", "read_org", &["200", "404"][..]),
        ("/api/v1/orgs/{org_id}", "patch", "update_org", &["200", "403", "404"][..]),
        ("/api/v1/orgs/{org_id}", "delete", "delete_org", &["204", "403", "404"][..]),
        ("/api/v1/orgs/{org_id}/members", "get", "list_org_members", &["200", "404"][..]),
        ("/api/v1/orgs/{org_id}/members/{user_id}", "put", "update_org_member", &["200", "403", "404", "409"][..]),
        ("/api/v1/orgs/{org_id}/members/{user_id}", "delete", "remove_org_member", &["204", "403", "404", "409"][..]),
        ("/api/v1/orgs/{org_id}/invitations", "post", "create_org_invitation", &["201", "403", "404"][..]),
        ("/api/v1/orgs/{org_id}/invitations", "get", "list_org_invitations", &["200", "403", "404"][..]),
        ("/api/v1/orgs/{org_id}/invitations/{id}", "delete", "revoke_org_invitation", &["204", "404"][..]),
        ("/api/v1/orgs/{org_id}/token", "post", "create_org_token", &["200", "403", "404"][..]),
        ("/api/v1/orgs/{org_id}/audit-events", "get", "list_org_audit_events", &["200", "403", "404"][..]),
        ("/api/v1/invitations/accept", "post", "accept_org_invitation", &["200", "400", "403", "409"][..]),
    ] {
        let op = &paths[path][method];
        assert_eq!(op["operationId"], id, "{method} {path}");
        for status in statuses {
            assert!(op["responses"][*status].is_object(), "{id} documents {status}");
        }
        assert!(op["security"].is_array(), "{id} needs a bearer");
    }
    let create = &paths["/api/v1/orgs"]["post"]["requestBody"]["content"]["application/json"]["schema"];
    assert_eq!(create["properties"]["slug"]["pattern"], "^[a-z0-9-]{3,40}$", "the slug rule is published");
    assert_eq!(paths["/api/v1/orgs"]["get"]["x-api-key-scope"], "orgs:read");
    assert!(doc.to_string().contains("\"last_owner\""), "last_owner is in the codes");
}
