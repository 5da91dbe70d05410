//! Second factors in memory: TOTP rows, recovery codes, `mfa_token`s, passkeys and WebAuthn
//! ceremonies, with the SQL adapter's conditional writes as checks under the store's one lock.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use hexgate_domain::UserId;
use hexgate_domain::passkey::{CeremonyKind, PasskeyId};
use hexgate_ports::{AuditEvent, MfaRepository, PasskeyRepository, PortError, StoredPasskey, TokenHash, TotpState};
use uuid::Uuid;

use super::InMemoryStore;

struct Challenge {
    user: UserId,
    attempts: i32,
    expires_at: DateTime<Utc>,
}

struct Ceremony {
    kind: CeremonyKind,
    user: Option<UserId>,
    state: String,
    expires_at: DateTime<Utc>,
}

#[derive(Default)]
pub(super) struct SecondFactorState {
    totp: HashMap<UserId, TotpState>,
    /// (user, code hash): unique, like the SQL index.
    recovery_codes: Vec<(UserId, String)>,
    challenges: HashMap<String, Challenge>,
    passkeys: HashMap<PasskeyId, StoredPasskey>,
    ceremonies: HashMap<Uuid, Ceremony>,
}

impl SecondFactorState {
    /// What `ON DELETE CASCADE` takes along when a user goes.
    pub(super) fn forget(&mut self, user: UserId) {
        self.totp.remove(&user);
        self.recovery_codes.retain(|(u, _)| *u != user);
        self.challenges.retain(|_, c| c.user != user);
        self.passkeys.retain(|_, p| p.passkey.user_id != user);
        self.ceremonies.retain(|_, c| c.user != Some(user));
    }
}

#[async_trait]
impl MfaRepository for InMemoryStore {
    async fn totp(&self, user: UserId) -> Result<Option<TotpState>, PortError> {
        Ok(self.lock().second_factors.totp.get(&user).cloned())
    }

    async fn recovery_codes_left(&self, user: UserId) -> Result<u64, PortError> {
        Ok(self.lock().second_factors.recovery_codes.iter().filter(|(u, _)| *u == user).count() as u64)
    }

    async fn set_pending_totp(&self, user: UserId, sealed: &[u8], _now: DateTime<Utc>) -> Result<bool, PortError> {
        let mut state = self.lock();
        if !state.users.contains_key(&user) {
            return Err(PortError::NotFound);
        }
        let totp = &mut state.second_factors.totp;
        if totp.get(&user).is_some_and(|t| t.enabled) {
            return Ok(false);
        }
        totp.insert(user, TotpState { enabled: false, sealed_secret: sealed.to_vec(), last_step: None });
        Ok(true)
    }

    async fn enable_totp(
        &self,
        user: UserId,
        sealed: &[u8],
        step: i64,
        codes: &[TokenHash],
        _now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        let factors = &mut state.second_factors;
        let Some(totp) = factors.totp.get_mut(&user).filter(|t| !t.enabled && t.sealed_secret == sealed) else {
            return Ok(false);
        };
        totp.enabled = true;
        totp.last_step = Some(step);
        factors.recovery_codes.retain(|(u, _)| *u != user);
        factors.recovery_codes.extend(codes.iter().map(|c| (user, c.0.clone())));
        state.record(events);
        Ok(true)
    }

    async fn disable_totp(&self, user: UserId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let mut state = self.lock();
        let removed = state.second_factors.totp.remove(&user).is_some();
        state.second_factors.recovery_codes.retain(|(u, _)| *u != user);
        if removed {
            state.record(events);
        }
        Ok(removed)
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[TokenHash],
        _now: DateTime<Utc>,
        events: &[AuditEvent],
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        let factors = &mut state.second_factors;
        if !factors.totp.get(&user).is_some_and(|t| t.enabled) {
            return Ok(false);
        }
        factors.recovery_codes.retain(|(u, _)| *u != user);
        factors.recovery_codes.extend(codes.iter().map(|c| (user, c.0.clone())));
        state.record(events);
        Ok(true)
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> Result<bool, PortError> {
        let mut state = self.lock();
        let Some(totp) = state.second_factors.totp.get_mut(&user).filter(|t| t.enabled) else { return Ok(false) };
        if totp.last_step.is_some_and(|last| last >= step) {
            return Ok(false);
        }
        totp.last_step = Some(step);
        Ok(true)
    }

    async fn spend_recovery_code(
        &self,
        user: UserId,
        code: &TokenHash,
        events: &[AuditEvent],
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        let codes = &mut state.second_factors.recovery_codes;
        let Some(at) = codes.iter().position(|(u, h)| *u == user && *h == code.0) else { return Ok(false) };
        codes.remove(at);
        state.record(events);
        Ok(true)
    }

    async fn create_challenge(
        &self,
        token: &TokenHash,
        user: UserId,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        if !state.users.contains_key(&user) {
            return Err(PortError::NotFound);
        }
        let challenges = &mut state.second_factors.challenges;
        challenges.retain(|_, c| c.expires_at > now);
        if challenges.contains_key(&token.0) {
            return Err(PortError::Internal("unique violation: mfa_challenges".into()));
        }
        challenges.insert(token.0.clone(), Challenge { user, attempts: 0, expires_at });
        Ok(())
    }

    async fn attempt_challenge(
        &self,
        token: &TokenHash,
        now: DateTime<Utc>,
        max_attempts: i32,
    ) -> Result<Option<UserId>, PortError> {
        let mut state = self.lock();
        let Some(challenge) = state.second_factors.challenges.get_mut(&token.0) else { return Ok(None) };
        if challenge.attempts >= max_attempts || challenge.expires_at <= now {
            return Ok(None);
        }
        challenge.attempts += 1;
        Ok(Some(challenge.user))
    }

    async fn spend_challenge(&self, token: &TokenHash) -> Result<bool, PortError> {
        Ok(self.lock().second_factors.challenges.remove(&token.0).is_some())
    }

    async fn remove_every_factor(&self, user: UserId, events: &[AuditEvent]) -> Result<(), PortError> {
        let mut state = self.lock();
        let factors = &mut state.second_factors;
        factors.totp.remove(&user);
        factors.recovery_codes.retain(|(u, _)| *u != user);
        factors.passkeys.retain(|_, p| p.passkey.user_id != user);
        factors.challenges.retain(|_, c| c.user != user);
        state.record(events);
        Ok(())
    }
}

#[async_trait]
impl PasskeyRepository for InMemoryStore {
    async fn create(&self, passkey: &StoredPasskey, events: &[AuditEvent]) -> Result<bool, PortError> {
        let mut state = self.lock();
        if !state.users.contains_key(&passkey.passkey.user_id) {
            return Err(PortError::NotFound);
        }
        let passkeys = &mut state.second_factors.passkeys;
        if passkeys.values().any(|p| p.credential_id == passkey.credential_id) {
            return Ok(false);
        }
        passkeys.insert(passkey.passkey.id, passkey.clone());
        state.record(events);
        Ok(true)
    }

    async fn list(&self, user: UserId) -> Result<Vec<StoredPasskey>, PortError> {
        let state = self.lock();
        let mut list: Vec<StoredPasskey> =
            state.second_factors.passkeys.values().filter(|p| p.passkey.user_id == user).cloned().collect();
        list.sort_by_key(|p| (p.passkey.created_at, p.passkey.id));
        Ok(list)
    }

    async fn count(&self, user: UserId) -> Result<u64, PortError> {
        Ok(self.lock().second_factors.passkeys.values().filter(|p| p.passkey.user_id == user).count() as u64)
    }

    async fn find_by_credential_id(&self, credential_id: &str) -> Result<Option<StoredPasskey>, PortError> {
        Ok(self.lock().second_factors.passkeys.values().find(|p| p.credential_id == credential_id).cloned())
    }

    async fn record_use(
        &self,
        id: PasskeyId,
        seen: u32,
        credential: &str,
        sign_count: u32,
        now: DateTime<Utc>,
    ) -> Result<bool, PortError> {
        let mut state = self.lock();
        let Some(passkey) = state.second_factors.passkeys.get_mut(&id).filter(|p| p.sign_count == seen) else {
            return Ok(false);
        };
        passkey.credential = credential.to_owned();
        passkey.sign_count = sign_count;
        passkey.passkey.last_used_at = Some(now);
        Ok(true)
    }

    async fn delete(&self, user: UserId, id: PasskeyId, events: &[AuditEvent]) -> Result<bool, PortError> {
        let mut state = self.lock();
        let passkeys = &mut state.second_factors.passkeys;
        if passkeys.get(&id).is_none_or(|p| p.passkey.user_id != user) {
            return Ok(false);
        }
        passkeys.remove(&id);
        state.record(events);
        Ok(true)
    }

    async fn put_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        user: Option<UserId>,
        ceremony_state: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> Result<(), PortError> {
        let mut state = self.lock();
        if user.is_some_and(|u| !state.users.contains_key(&u)) {
            return Err(PortError::NotFound);
        }
        let ceremonies = &mut state.second_factors.ceremonies;
        ceremonies.retain(|_, c| c.expires_at > now);
        ceremonies.insert(id, Ceremony { kind, user, state: ceremony_state.to_owned(), expires_at });
        Ok(())
    }

    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: CeremonyKind,
        now: DateTime<Utc>,
    ) -> Result<Option<(Option<UserId>, String)>, PortError> {
        let mut state = self.lock();
        let ceremonies = &mut state.second_factors.ceremonies;
        if ceremonies.get(&id).is_none_or(|c| c.kind != kind) {
            return Ok(None);
        }
        let Some(ceremony) = ceremonies.remove(&id) else { return Ok(None) };
        Ok((ceremony.expires_at > now).then_some((ceremony.user, ceremony.state)))
    }
}
