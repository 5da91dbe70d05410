//! Access-token signing keys: the public half in the clear, the private half sealed by the crypto
//! adapter (an AEAD keyed from `SECRET_KEY`). At most one key is active: a unique partial index
//! on `active`, so two instances making the first key at once cannot both succeed.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SigningKeys {
    Table,
    Kid,
    Algorithm,
    PublicKey,
    SealedPrivateKey,
    Active,
    CreatedAt,
    RotatedAt,
    RetiredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SigningKeys::Table)
                    .col(ColumnDef::new(SigningKeys::Kid).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(SigningKeys::Algorithm).string_len(16).not_null())
                    .col(ColumnDef::new(SigningKeys::PublicKey).binary().not_null())
                    .col(ColumnDef::new(SigningKeys::SealedPrivateKey).binary().not_null())
                    .col(ColumnDef::new(SigningKeys::Active).boolean().not_null())
                    .col(ColumnDef::new(SigningKeys::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(SigningKeys::RotatedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(SigningKeys::RetiredAt).timestamp_with_time_zone().null())
                    .to_owned(),
            )
            .await?;
        // The same statement on PostgreSQL and SQLite (both have partial indexes).
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX ux_signing_keys_one_active ON signing_keys (active) WHERE active")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SigningKeys::Table).to_owned()).await
    }
}
