//! Second factors. TOTP: one row per user (pending until confirmed), the secret sealed by the
//! crypto adapter, and the last accepted step (no code is accepted twice). Recovery codes: keyed
//! hashes, deleted when spent. `mfa_token`s: hashes with an attempt count, so every instance can
//! finish a login another began. Passkeys and WebAuthn ceremonies in flight, for the same reason.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum UserTotp {
    Table,
    UserId,
    SealedSecret,
    Enabled,
    LastStep,
    CreatedAt,
    EnabledAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum MfaChallenges {
    Table,
    TokenHash,
    UserId,
    Attempts,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Passkeys {
    Table,
    Id,
    UserId,
    Name,
    CredentialId,
    Credential,
    SignCount,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum WebauthnChallenges {
    Table,
    Id,
    UserId,
    Kind,
    State,
    ExpiresAt,
}

fn owned_by_user(table: impl IntoIden, column: impl IntoIden, name: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserTotp::Table)
                    .col(ColumnDef::new(UserTotp::UserId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(UserTotp::SealedSecret).binary().not_null())
                    .col(ColumnDef::new(UserTotp::Enabled).boolean().not_null())
                    .col(ColumnDef::new(UserTotp::LastStep).big_integer().null())
                    .col(ColumnDef::new(UserTotp::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(UserTotp::EnabledAt).timestamp_with_time_zone().null())
                    .foreign_key(&mut owned_by_user(UserTotp::Table, UserTotp::UserId, "fk_user_totp_user"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(ColumnDef::new(RecoveryCodes::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(RecoveryCodes::UserId).uuid().not_null())
                    .col(ColumnDef::new(RecoveryCodes::CodeHash).string_len(64).not_null())
                    .col(ColumnDef::new(RecoveryCodes::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut owned_by_user(
                        RecoveryCodes::Table,
                        RecoveryCodes::UserId,
                        "fk_recovery_codes_user",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_recovery_codes_user_hash")
                    .table(RecoveryCodes::Table)
                    .col(RecoveryCodes::UserId)
                    .col(RecoveryCodes::CodeHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(MfaChallenges::Table)
                    .col(ColumnDef::new(MfaChallenges::TokenHash).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(MfaChallenges::UserId).uuid().not_null())
                    .col(ColumnDef::new(MfaChallenges::Attempts).integer().not_null())
                    .col(ColumnDef::new(MfaChallenges::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(MfaChallenges::ExpiresAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut owned_by_user(
                        MfaChallenges::Table,
                        MfaChallenges::UserId,
                        "fk_mfa_challenges_user",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_mfa_challenges_expires")
                    .table(MfaChallenges::Table)
                    .col(MfaChallenges::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Passkeys::Table)
                    .col(ColumnDef::new(Passkeys::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Passkeys::UserId).uuid().not_null())
                    .col(ColumnDef::new(Passkeys::Name).string_len(400).not_null())
                    .col(ColumnDef::new(Passkeys::CredentialId).string_len(1400).not_null())
                    .col(ColumnDef::new(Passkeys::Credential).text().not_null())
                    .col(ColumnDef::new(Passkeys::SignCount).big_integer().not_null())
                    .col(ColumnDef::new(Passkeys::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Passkeys::LastUsedAt).timestamp_with_time_zone().null())
                    .foreign_key(&mut owned_by_user(Passkeys::Table, Passkeys::UserId, "fk_passkeys_user"))
                    .to_owned(),
            )
            .await?;
        // A credential belongs to one account: registering it again (for anyone) is refused.
        manager
            .create_index(
                Index::create()
                    .name("ux_passkeys_credential_id")
                    .table(Passkeys::Table)
                    .col(Passkeys::CredentialId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_passkeys_user")
                    .table(Passkeys::Table)
                    .col(Passkeys::UserId)
                    .col(Passkeys::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebauthnChallenges::Table)
                    .col(ColumnDef::new(WebauthnChallenges::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(WebauthnChallenges::UserId).uuid().null())
                    .col(ColumnDef::new(WebauthnChallenges::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(WebauthnChallenges::State).text().not_null())
                    .col(ColumnDef::new(WebauthnChallenges::ExpiresAt).timestamp_with_time_zone().not_null())
                    .foreign_key(&mut owned_by_user(
                        WebauthnChallenges::Table,
                        WebauthnChallenges::UserId,
                        "fk_webauthn_challenges_user",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webauthn_challenges_expires")
                    .table(WebauthnChallenges::Table)
                    .col(WebauthnChallenges::ExpiresAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebauthnChallenges::Table.into_iden(),
            Passkeys::Table.into_iden(),
            MfaChallenges::Table.into_iden(),
            RecoveryCodes::Table.into_iden(),
            UserTotp::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
