use std::collections::HashSet;
use std::sync::Arc;

use futures_util::future::try_join_all;
use hexgate_domain::audit::AuditEventType;
use hexgate_domain::policy::{Access, UserAction, user_access};
use hexgate_domain::{
    Email, FullName, NewUser, Page, PageRequest, Password, Permission, PermissionSet, User, UserFilter, UserId,
    UserUpdate, Username,
};
use serde_json::json;
use tracing::{info, warn};

use super::access::{AccessEnded, AccessEvents, announce};
use super::paging::{Cursors, Fingerprint, read_user_key, user_key};
use crate::{
    AuditStamp, BatchField, Clock, CursorSealer, FileStore, PasswordHasher, PortError, RequestContext, Resource,
    ServiceError, UserRepository,
};

/// A sign-up or an admin-made account, from parts that are already valid.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: Email,
    pub username: Username,
    pub full_name: FullName,
    pub is_active: bool,
    pub password: Password,
}

/// The fields a user (or an admin) may change on a record.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<Email>,
    pub full_name: Option<FullName>,
    pub is_active: Option<bool>,
}

/// What `ensure_superuser` found or did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SuperuserOutcome {
    Created(UserId),
    AlreadyAdmin(UserId),
    Promoted(UserId),
    /// The address belongs to a non-admin account and promotion was not asked for.
    ExistsWithoutAdmin(UserId),
}

pub struct UserService {
    users: Arc<dyn UserRepository>,
    hasher: Arc<dyn PasswordHasher>,
    clock: Arc<dyn Clock>,
    /// Seals the list's `next_cursor`s and opens those sent back.
    cursors: Arc<dyn CursorSealer>,
    open_registration: bool,
    /// Where users' uploads live, so deleting a user removes their bytes too.
    files: Option<Arc<dyn FileStore>>,
    /// Told when a user's access ends (deactivated, deleted), so their open connections end too.
    access_events: Option<Arc<AccessEvents>>,
}

fn require(actor: &User, action: UserAction, target: Option<UserId>) -> Result<(), ServiceError> {
    match user_access(actor, action, target) {
        Access::Allowed => Ok(()),
        Access::Forbidden => Err(ServiceError::Forbidden),
    }
}

fn user_not_found(err: PortError) -> ServiceError {
    match err {
        PortError::NotFound => ServiceError::NotFound(Resource::User),
        other => other.into(),
    }
}

impl UserService {
    #[must_use]
    pub fn new(
        users: Arc<dyn UserRepository>,
        hasher: Arc<dyn PasswordHasher>,
        clock: Arc<dyn Clock>,
        cursors: Arc<dyn CursorSealer>,
        open_registration: bool,
    ) -> Self {
        Self { users, hasher, clock, cursors, open_registration, files: None, access_events: None }
    }

    /// Announces the end of a user's access when they are deactivated or deleted.
    #[must_use]
    pub fn with_access_events(mut self, events: Arc<AccessEvents>) -> Self {
        self.access_events = Some(events);
        self
    }

    /// Deleting a user also removes their uploads' bytes from `files` (the rows go by cascade).
    #[must_use]
    pub fn with_file_store(mut self, files: Arc<dyn FileStore>) -> Self {
        self.files = Some(files);
        self
    }

    #[must_use]
    pub fn open_registration(&self) -> bool {
        self.open_registration
    }

    async fn build(&self, account: NewAccount, permissions: PermissionSet) -> Result<User, ServiceError> {
        let password_hash = self.hasher.hash(&account.password).await?;
        Ok(NewUser {
            email: account.email,
            username: account.username,
            full_name: account.full_name,
            is_active: account.is_active,
            permissions,
            password_hash,
        }
        .into_user(UserId::new(), self.clock.now()))
    }

    /// Creates an account. Anyone may while registration is open; otherwise only an admin.
    /// New accounts never carry permissions, whatever the request held.
    ///
    /// # Errors
    /// `Unauthenticated`/`Forbidden` when registration is closed; `Conflict` for a taken
    /// e-mail or username.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        actor: Option<&User>,
        account: NewAccount,
        context: &RequestContext,
    ) -> Result<User, ServiceError> {
        if !self.open_registration {
            let actor = actor.ok_or(ServiceError::Unauthenticated)?;
            require(actor, UserAction::CreateWhenClosed, None)?;
        }
        let user = self.build(account, PermissionSet::EMPTY).await?;
        let now = self.clock.now();
        let stamp = AuditStamp::new(now, actor.map(|a| a.id), context);
        let via = if actor.is_some() { "admin" } else { "sign_up" };
        let event = stamp.event(AuditEventType::UserCreated, Some(user.id), json!({"via": via}));
        self.users.insert_audited(&user, &[crate::welcome_job(user.id)], &[event], now).await?;
        info!(user_id = %user.id, "user registered");
        Ok(user)
    }

    /// Creates up to 100 accounts, all or none, answering in input order.
    ///
    /// # Errors
    /// `DuplicateInBatch` for duplicates inside the batch; `EmailsTaken` / `UsernamesTaken` naming
    /// the ones already registered.
    #[tracing::instrument(skip_all, fields(count = accounts.len()))]
    pub async fn create_batch(
        &self,
        actor: &User,
        accounts: Vec<NewAccount>,
        context: &RequestContext,
    ) -> Result<Vec<User>, ServiceError> {
        require(actor, UserAction::BatchCreate, None)?;
        let emails: Vec<Email> = accounts.iter().map(|a| a.email.clone()).collect();
        let usernames: Vec<Username> = accounts.iter().map(|a| a.username.clone()).collect();
        if emails.iter().collect::<HashSet<_>>().len() != emails.len() {
            return Err(ServiceError::DuplicateInBatch(BatchField::Emails));
        }
        if usernames.iter().collect::<HashSet<_>>().len() != usernames.len() {
            return Err(ServiceError::DuplicateInBatch(BatchField::Usernames));
        }
        let taken = self.users.taken_emails(&emails).await?;
        if !taken.is_empty() {
            return Err(ServiceError::EmailsTaken(texts(&taken)));
        }
        let taken = self.users.taken_usernames(&usernames).await?;
        if !taken.is_empty() {
            return Err(ServiceError::UsernamesTaken(texts(&taken)));
        }
        // The hashes run side by side on the blocking pool.
        let users = try_join_all(accounts.into_iter().map(|a| self.build(a, PermissionSet::EMPTY))).await?;
        let stamp = AuditStamp::new(self.clock.now(), Some(actor.id), context);
        let events: Vec<_> = users
            .iter()
            .map(|u| stamp.event(AuditEventType::UserCreated, Some(u.id), json!({"via": "batch"})))
            .collect();
        self.users.insert_many_audited(&users, &events).await?;
        Ok(users)
    }

    /// # Errors
    /// `Forbidden` for someone else's record without rights (whether or not it exists);
    /// `NotFound` only for callers who may see it.
    pub async fn get(&self, actor: &User, id: UserId) -> Result<User, ServiceError> {
        require(actor, UserAction::View, Some(id))?;
        if id == actor.id {
            return Ok(actor.clone());
        }
        self.users.get(id).await?.ok_or(ServiceError::NotFound(Resource::User))
    }

    /// A page of users in `filter.sort`'s order (ties by id), by page number or by a cursor an
    /// earlier page of the same filter and sort gave.
    ///
    /// # Errors
    /// `Forbidden` without the right to list users; `BadCursor`.
    pub async fn list(&self, actor: &User, filter: &UserFilter, page: PageRequest) -> Result<Page<User>, ServiceError> {
        require(actor, UserAction::List, None)?;
        let active = match filter.is_active {
            None => "any",
            Some(true) => "active",
            Some(false) => "inactive",
        };
        let fingerprint =
            Fingerprint::default().field(filter.sort.name()).field(active).optional(filter.normalised_q().as_deref());
        let cursors = Cursors::new(&*self.cursors, "users", fingerprint);
        let window = cursors.window(&page, |text| read_user_key(filter.sort, text))?;
        let slice = self.users.list(filter, window).await?;
        Ok(cursors.page(slice, &page, |last| (last.id.as_uuid(), user_key(&filter.sort.key_of(last)))))
    }

    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict` (e-mail taken, last admin).
    #[tracing::instrument(skip_all, fields(target = %id))]
    pub async fn update(
        &self,
        actor: &User,
        id: UserId,
        changes: UserChanges,
        context: &RequestContext,
    ) -> Result<User, ServiceError> {
        require(actor, UserAction::Update, Some(id))?;
        let update = UserUpdate {
            email: changes.email,
            full_name: changes.full_name,
            is_active: changes.is_active,
            ..UserUpdate::default()
        };
        let now = self.clock.now();
        let stamp = AuditStamp::new(now, Some(actor.id), context);
        let user = self.users.update_audited(id, &update, now, Some(&stamp)).await.map_err(user_not_found)?;
        if changes.is_active == Some(false) {
            announce(self.access_events.as_ref(), AccessEnded::AllSessions { user: id, except: None }).await;
        }
        Ok(user)
    }

    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict` (last admin).
    #[tracing::instrument(skip_all, fields(target = %id))]
    pub async fn set_permissions(
        &self,
        actor: &User,
        id: UserId,
        permissions: PermissionSet,
        context: &RequestContext,
    ) -> Result<User, ServiceError> {
        require(actor, UserAction::SetPermissions, Some(id))?;
        let update = UserUpdate { permissions: Some(permissions), ..UserUpdate::default() };
        let now = self.clock.now();
        let stamp = AuditStamp::new(now, Some(actor.id), context);
        let user = self.users.update_audited(id, &update, now, Some(&stamp)).await.map_err(user_not_found)?;
        info!(actor = %actor.id, permissions = ?permissions.names(), "permissions changed");
        Ok(user)
    }

    /// # Errors
    /// `Forbidden`, `NotFound`, `Conflict` (last admin).
    #[tracing::instrument(skip_all, fields(target = %id))]
    pub async fn delete(&self, actor: &User, id: UserId, context: &RequestContext) -> Result<(), ServiceError> {
        require(actor, UserAction::Delete, Some(id))?;
        let stamp = AuditStamp::new(self.clock.now(), Some(actor.id), context);
        let event = stamp.event(AuditEventType::UserDeleted, Some(id), json!({}));
        self.users.delete_audited(id, &[event]).await.map_err(user_not_found)?;
        info!(actor = %actor.id, "user deleted");
        announce(self.access_events.as_ref(), AccessEnded::AllSessions { user: id, except: None }).await;
        // After the rows: an upload racing this delete fails on the missing owner and removes
        // its own bytes, so nothing of the user's is left either way.
        if let Some(files) = &self.files
            && let Err(err) = files.delete_owner(id).await
        {
            warn!(target = %id, error = %err, "user deleted but their files' bytes could not be removed");
        }
        Ok(())
    }

    /// Makes sure an admin with this e-mail exists: creates it, or (with `promote`) grants admin
    /// to the existing account. Without `promote` an existing non-admin account is left alone,
    /// because whoever registered that address first is not necessarily the operator.
    ///
    /// # Errors
    /// `Conflict` when the username is taken by another account; store errors.
    pub async fn ensure_superuser(&self, account: NewAccount, promote: bool) -> Result<SuperuserOutcome, ServiceError> {
        if let Some(existing) = self.users.find_by_login(account.email.as_str()).await? {
            if existing.permissions.is_admin() {
                return Ok(SuperuserOutcome::AlreadyAdmin(existing.id));
            }
            if !promote {
                warn!(user_id = %existing.id, "superuser e-mail belongs to a non-admin account; not promoting it");
                return Ok(SuperuserOutcome::ExistsWithoutAdmin(existing.id));
            }
            let update = UserUpdate {
                permissions: Some(existing.permissions.with(Permission::Admin)),
                is_active: Some(true),
                ..UserUpdate::default()
            };
            let now = self.clock.now();
            let stamp = AuditStamp::new(now, None, &RequestContext::system());
            self.users.update_audited(existing.id, &update, now, Some(&stamp)).await?;
            return Ok(SuperuserOutcome::Promoted(existing.id));
        }
        let user = self.build(account, PermissionSet::EMPTY.with(Permission::Admin)).await?;
        let stamp = AuditStamp::new(self.clock.now(), None, &RequestContext::system());
        let event = stamp.event(AuditEventType::UserCreated, Some(user.id), json!({"via": "superuser"}));
        match self.users.insert_audited(&user, &[], &[event], user.created_at).await {
            Ok(()) => Ok(SuperuserOutcome::Created(user.id)),
            // Another instance starting at the same time created it first.
            Err(PortError::Conflict(crate::Conflict::EmailTaken)) => Ok(SuperuserOutcome::AlreadyAdmin(user.id)),
            Err(err) => Err(err.into()),
        }
    }
}

fn texts<T: std::fmt::Display>(items: &[T]) -> Vec<String> {
    items.iter().map(ToString::to_string).collect()
}
