//! Uploaded files' metadata; the bytes live in the file store. A file goes with its owner.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    OwnerId,
    TaskId,
    Filename,
    Size,
    Sha256,
    ContentType,
    LineCount,
    CreatedAt,
    ProcessedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(ColumnDef::new(Files::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Files::OwnerId).uuid().not_null())
                    .col(ColumnDef::new(Files::TaskId).uuid().not_null())
                    .col(ColumnDef::new(Files::Filename).string_len(255).not_null())
                    .col(ColumnDef::new(Files::Size).big_integer().not_null())
                    .col(ColumnDef::new(Files::Sha256).string_len(64).null())
                    .col(ColumnDef::new(Files::ContentType).string_len(255).null())
                    .col(ColumnDef::new(Files::LineCount).big_integer().null())
                    .col(ColumnDef::new(Files::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Files::ProcessedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_files_owner")
                            .from(Files::Table, Files::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ux_files_task").table(Files::Table).col(Files::TaskId).unique().to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("ix_files_owner").table(Files::Table).col(Files::OwnerId).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Files::Table).to_owned()).await
    }
}
