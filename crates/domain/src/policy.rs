//! Who may do what to whom. Pure functions over the actor and the target, so the whole matrix is
//! unit-tested here and every adapter and route asks the same questions.

use crate::{DomainError, Permission, User, UserId};

/// What an authenticated caller wants to do to a user record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    View,
    Update,
    SetPermissions,
    Delete,
    List,
    BatchCreate,
    /// Creating an account while open registration is off.
    CreateWhenClosed,
}

/// The answer to "may this actor do that": a refusal never says whether the target exists, so a
/// caller without rights gets the same answer for real and made-up ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Allowed,
    Forbidden,
}

/// `target` is `None` for actions on the collection (list, batch create).
#[must_use]
pub fn user_access(actor: &User, action: UserAction, target: Option<UserId>) -> Access {
    let perms = actor.permissions;
    let is_self = target == Some(actor.id);
    let allowed = match action {
        UserAction::View => is_self || perms.grants(Permission::UserManager),
        UserAction::Update => is_self || perms.is_admin(),
        UserAction::SetPermissions | UserAction::Delete | UserAction::CreateWhenClosed => perms.is_admin(),
        UserAction::List | UserAction::BatchCreate => perms.grants(Permission::UserManager),
    };
    if allowed { Access::Allowed } else { Access::Forbidden }
}

/// Products may be written by admins and catalog managers.
#[must_use]
pub fn can_manage_catalog(actor: &User) -> bool {
    actor.permissions.grants(Permission::CatalogManager)
}

/// Preferences, related data and orders: the owner or an admin.
#[must_use]
pub fn owner_or_admin(actor: &User, owner: UserId) -> bool {
    actor.id == owner || actor.permissions.is_admin()
}

/// Whether a user counts toward "there is still an admin": active and holding `admin`.
#[must_use]
pub fn is_active_admin(user: &User) -> bool {
    user.is_active && user.permissions.is_admin()
}

/// The last-admin rule: a change that turns the only active admin into a non-admin (demotion,
/// deactivation or deletion — `after` is `None`) is refused. `active_admins` counts the target
/// too when it is one.
///
/// # Errors
/// [`DomainError::LastAdmin`] when the change would leave no active admin.
pub fn ensure_an_admin_remains(before: &User, after: Option<&User>, active_admins: u64) -> Result<(), DomainError> {
    let loses_admin = is_active_admin(before) && !after.is_some_and(is_active_admin);
    if loses_admin && active_admins <= 1 { Err(DomainError::LastAdmin) } else { Ok(()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::tests::user_with;
    use crate::{Permission, PermissionSet};

    fn admin() -> User {
        user_with(PermissionSet::EMPTY.with(Permission::Admin))
    }
    fn manager() -> User {
        user_with(PermissionSet::EMPTY.with(Permission::UserManager))
    }
    fn plain() -> User {
        user_with(PermissionSet::EMPTY)
    }

    #[test]
    fn a_user_may_view_and_update_only_themselves() {
        let me = plain();
        let other = plain();
        assert_eq!(user_access(&me, UserAction::View, Some(me.id)), Access::Allowed);
        assert_eq!(user_access(&me, UserAction::Update, Some(me.id)), Access::Allowed);
        assert_eq!(user_access(&me, UserAction::View, Some(other.id)), Access::Forbidden);
        assert_eq!(user_access(&me, UserAction::Update, Some(other.id)), Access::Forbidden);
    }

    #[test]
    fn refusals_do_not_depend_on_whether_the_target_exists() {
        let me = plain();
        let missing = UserId::new();
        assert_eq!(user_access(&me, UserAction::View, Some(missing)), Access::Forbidden);
        assert_eq!(user_access(&me, UserAction::Update, Some(missing)), Access::Forbidden);
        assert_eq!(user_access(&me, UserAction::Delete, Some(missing)), Access::Forbidden);
    }

    #[test]
    fn an_admin_may_do_everything_to_anyone_existing_or_not() {
        let a = admin();
        let missing = UserId::new();
        for action in [
            UserAction::View,
            UserAction::Update,
            UserAction::SetPermissions,
            UserAction::Delete,
            UserAction::List,
            UserAction::BatchCreate,
            UserAction::CreateWhenClosed,
        ] {
            assert_eq!(user_access(&a, action, Some(missing)), Access::Allowed, "{action:?}");
        }
    }

    #[test]
    fn a_user_manager_may_list_read_and_batch_create_but_not_edit_others() {
        let m = manager();
        let other = UserId::new();
        assert_eq!(user_access(&m, UserAction::List, None), Access::Allowed);
        assert_eq!(user_access(&m, UserAction::BatchCreate, None), Access::Allowed);
        assert_eq!(user_access(&m, UserAction::View, Some(other)), Access::Allowed);
        assert_eq!(user_access(&m, UserAction::Update, Some(other)), Access::Forbidden);
        assert_eq!(user_access(&m, UserAction::SetPermissions, Some(m.id)), Access::Forbidden);
        assert_eq!(user_access(&m, UserAction::Delete, Some(other)), Access::Forbidden);
    }

    #[test]
    fn a_plain_user_may_not_list_or_batch_create() {
        let me = plain();
        assert_eq!(user_access(&me, UserAction::List, None), Access::Forbidden);
        assert_eq!(user_access(&me, UserAction::BatchCreate, None), Access::Forbidden);
        assert_eq!(user_access(&me, UserAction::SetPermissions, Some(me.id)), Access::Forbidden);
    }

    #[test]
    fn catalog_writes_and_owner_only_data_follow_their_grants() {
        let (a, m, p) = (admin(), manager(), plain());
        let catalog = user_with(PermissionSet::EMPTY.with(Permission::CatalogManager));
        assert!(can_manage_catalog(&a) && can_manage_catalog(&catalog));
        assert!(!can_manage_catalog(&m) && !can_manage_catalog(&p));
        assert!(owner_or_admin(&p, p.id) && owner_or_admin(&a, p.id));
        assert!(!owner_or_admin(&m, p.id) && !owner_or_admin(&p, m.id));
    }

    #[test]
    fn the_last_active_admin_cannot_be_demoted_deactivated_or_deleted() {
        let a = admin();
        let demoted = User { permissions: PermissionSet::EMPTY, ..a.clone() };
        let deactivated = User { is_active: false, ..a.clone() };
        assert_eq!(ensure_an_admin_remains(&a, Some(&demoted), 1), Err(DomainError::LastAdmin));
        assert_eq!(ensure_an_admin_remains(&a, Some(&deactivated), 1), Err(DomainError::LastAdmin));
        assert_eq!(ensure_an_admin_remains(&a, None, 1), Err(DomainError::LastAdmin));
    }

    #[test]
    fn an_admin_may_go_while_another_active_admin_remains() {
        let a = admin();
        assert_eq!(ensure_an_admin_remains(&a, None, 2), Ok(()));
    }

    #[test]
    fn changes_that_keep_the_admin_or_touch_non_admins_are_always_fine() {
        let a = admin();
        let renamed = User { full_name: crate::FullName::parse("New").expect("ok"), ..a.clone() };
        assert_eq!(ensure_an_admin_remains(&a, Some(&renamed), 1), Ok(()));
        let p = plain();
        assert_eq!(ensure_an_admin_remains(&p, None, 0), Ok(()));
        let inactive_admin = User { is_active: false, ..admin() };
        assert_eq!(ensure_an_admin_remains(&inactive_admin, None, 1), Ok(()));
    }
}
