//! API keys (stored by the SHA-256 of their secret) and the append-only audit log. Audit events
//! reference no user row on purpose: the record of an account outlives the account.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    UserId,
    Name,
    Scopes,
    Prefix,
    KeyHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    EventType,
    At,
    ActorId,
    SubjectId,
    OrgId,
    Ip,
    UserAgent,
    RequestId,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(ColumnDef::new(ApiKeys::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ApiKeys::UserId).uuid().not_null())
                    .col(ColumnDef::new(ApiKeys::Name).string_len(400).not_null())
                    .col(ColumnDef::new(ApiKeys::Scopes).string_len(255).not_null())
                    .col(ColumnDef::new(ApiKeys::Prefix).string_len(12).not_null())
                    .col(ColumnDef::new(ApiKeys::KeyHash).string_len(64).not_null())
                    .col(ColumnDef::new(ApiKeys::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ApiKeys::ExpiresAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ApiKeys::LastUsedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_keys_user")
                            .from(ApiKeys::Table, ApiKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Every request made with a key is one lookup on this index.
        manager
            .create_index(
                Index::create()
                    .name("ux_api_keys_hash")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::KeyHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_keys_user")
                    .table(ApiKeys::Table)
                    .col(ApiKeys::UserId)
                    .col(ApiKeys::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(ColumnDef::new(AuditEvents::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(AuditEvents::EventType).string_len(40).not_null())
                    .col(ColumnDef::new(AuditEvents::At).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(AuditEvents::ActorId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::SubjectId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::OrgId).uuid().null())
                    .col(ColumnDef::new(AuditEvents::Ip).string_len(64).null())
                    .col(ColumnDef::new(AuditEvents::UserAgent).string_len(1024).null())
                    .col(ColumnDef::new(AuditEvents::RequestId).string_len(128).null())
                    .col(ColumnDef::new(AuditEvents::Details).text().not_null())
                    .to_owned(),
            )
            .await?;
        // Keyset paging, newest first: (at, id) overall and within each filter column.
        for (name, column) in [
            ("ix_audit_events_subject", Some(AuditEvents::SubjectId)),
            ("ix_audit_events_actor", Some(AuditEvents::ActorId)),
            ("ix_audit_events_org", Some(AuditEvents::OrgId)),
            ("ix_audit_events_type", Some(AuditEvents::EventType)),
            ("ix_audit_events_at", None),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditEvents::Table);
            if let Some(column) = column {
                index.col(column);
            }
            manager.create_index(index.col(AuditEvents::At).col(AuditEvents::Id).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(AuditEvents::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await
    }
}
