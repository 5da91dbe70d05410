//! Keyset paging (issue 17): every list continues after a (sort column, id) position, so each sort
//! gets an index on exactly those columns, in which a deep page is a range scan as short as the
//! first. Created-at sorts get (created_at, id) indexes, which replace the single-column ones
//! they make redundant (orders also by user: (user_id, created_at, id)). Username and e-mail are
//! unique, so their unique indexes already order every row; on PostgreSQL those columns move to
//! the `"C"` collation, so that the index, `ORDER BY` and the keyset comparison all order by
//! bytes, as SQLite (`BINARY`) and the domain do, whatever locale the database was created with.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    UserId,
    CreatedAt,
}

/// The indexes this migration makes, and the one each replaces.
fn keyset_indexes() -> [(&'static str, IndexCreateStatement, &'static str, IndexCreateStatement); 4] {
    [
        (
            "ix_users_created_id",
            Index::create().table(Users::Table).col(Users::CreatedAt).col(Users::Id).to_owned(),
            "ix_users_created_at",
            Index::create().table(Users::Table).col(Users::CreatedAt).to_owned(),
        ),
        (
            "ix_products_created_id",
            Index::create().table(Products::Table).col(Products::CreatedAt).col(Products::Id).to_owned(),
            "ix_products_created_at",
            Index::create().table(Products::Table).col(Products::CreatedAt).to_owned(),
        ),
        (
            "ix_orders_created_id",
            Index::create().table(Orders::Table).col(Orders::CreatedAt).col(Orders::Id).to_owned(),
            "ix_orders_created_at",
            Index::create().table(Orders::Table).col(Orders::CreatedAt).to_owned(),
        ),
        (
            "ix_orders_user_created_id",
            Index::create().table(Orders::Table).col(Orders::UserId).col(Orders::CreatedAt).col(Orders::Id).to_owned(),
            "ix_orders_user_created",
            Index::create().table(Orders::Table).col(Orders::UserId).col(Orders::CreatedAt).to_owned(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            // Rebuilds ux_users_username and ux_users_email in byte order; equality (and so
            // uniqueness) is unchanged, the values being stored lowercase.
            manager
                .get_connection()
                .execute_unprepared(
                    r#"ALTER TABLE users ALTER COLUMN username TYPE varchar(50) COLLATE "C",
                                         ALTER COLUMN email TYPE varchar(254) COLLATE "C""#,
                )
                .await?;
        }
        for (name, mut index, replaced, _) in keyset_indexes() {
            manager.create_index(index.name(name).to_owned()).await?;
            manager.drop_index(Index::drop().name(replaced).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _, replaced, mut index) in keyset_indexes() {
            manager.create_index(index.name(replaced).to_owned()).await?;
            manager.drop_index(Index::drop().name(name).to_owned()).await?;
        }
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared(
                    r#"ALTER TABLE users ALTER COLUMN username TYPE varchar(50) COLLATE "default",
                                         ALTER COLUMN email TYPE varchar(254) COLLATE "default""#,
                )
                .await?;
        }
        Ok(())
    }
}
