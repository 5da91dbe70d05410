//! Products, orders and preferences. Money is exact: `NUMERIC` on PostgreSQL; on SQLite, which has
//! no exact decimal type (its `NUMERIC` affinity turns 19.99 into a binary float), the decimal's
//! text in a `TEXT` column.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Products {
    Table,
    Id,
    Name,
    Price,
    TaxRate,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    UserId,
    Status,
    Total,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrderItems {
    Table,
    Id,
    OrderId,
    Position,
    ProductId,
    Name,
    UnitPrice,
    Quantity,
}

#[derive(DeriveIden)]
enum UserPreferences {
    Table,
    UserId,
    Theme,
    Language,
    NotificationsEnabled,
    UpdatedAt,
}

/// An exact decimal column: `NUMERIC(precision, scale)` on PostgreSQL, `TEXT` on SQLite.
fn decimal(manager: &SchemaManager, column: impl IntoIden, precision: u32, scale: u32) -> ColumnDef {
    let mut def = ColumnDef::new(column);
    if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Sqlite {
        def.text();
    } else {
        def.decimal_len(precision, scale);
    }
    def.not_null();
    def
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let postgres = manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres;
        let mut products = Table::create();
        products
            .table(Products::Table)
            .col(ColumnDef::new(Products::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Products::Name).string_len(200).not_null())
            .col(decimal(manager, Products::Price, 12, 2))
            .col(decimal(manager, Products::TaxRate, 5, 4))
            .col(ColumnDef::new(Products::CreatedAt).timestamp_with_time_zone().not_null())
            .col(ColumnDef::new(Products::UpdatedAt).timestamp_with_time_zone().not_null());
        if postgres {
            // Numeric checks need numbers; on SQLite the domain's Money and TaxRate are the guard.
            products.check(Expr::col(Products::Price).gte(0)).check(Expr::col(Products::TaxRate).between(0, 1));
        }
        manager.create_table(products.to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_products_created_at")
                    .table(Products::Table)
                    .col(Products::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .col(ColumnDef::new(Orders::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Orders::UserId).uuid().not_null())
                    .col(ColumnDef::new(Orders::Status).string_len(16).not_null())
                    .col(decimal(manager, Orders::Total, 14, 2))
                    .col(ColumnDef::new(Orders::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_orders_user")
                            .from(Orders::Table, Orders::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The list filters by user and date range and sorts by date.
        manager
            .create_index(
                Index::create()
                    .name("ix_orders_user_created")
                    .table(Orders::Table)
                    .col(Orders::UserId)
                    .col(Orders::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("ix_orders_created_at").table(Orders::Table).col(Orders::CreatedAt).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderItems::Table)
                    .col(ColumnDef::new(OrderItems::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(OrderItems::OrderId).uuid().not_null())
                    .col(ColumnDef::new(OrderItems::Position).integer().not_null())
                    // No foreign key: an order keeps its copy when the product is deleted.
                    .col(ColumnDef::new(OrderItems::ProductId).uuid().not_null())
                    .col(ColumnDef::new(OrderItems::Name).string_len(200).not_null())
                    .col(decimal(manager, OrderItems::UnitPrice, 12, 2))
                    .col(ColumnDef::new(OrderItems::Quantity).integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_items_order")
                            .from(OrderItems::Table, OrderItems::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_order_items_order")
                    .table(OrderItems::Table)
                    .col(OrderItems::OrderId)
                    .col(OrderItems::Position)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(UserPreferences::Table)
                    .col(ColumnDef::new(UserPreferences::UserId).uuid().not_null().primary_key())
                    .col(ColumnDef::new(UserPreferences::Theme).string_len(16).not_null())
                    .col(ColumnDef::new(UserPreferences::Language).string_len(35).not_null())
                    .col(ColumnDef::new(UserPreferences::NotificationsEnabled).boolean().not_null())
                    .col(ColumnDef::new(UserPreferences::UpdatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_preferences_user")
                            .from(UserPreferences::Table, UserPreferences::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UserPreferences::Table.into_iden(),
            OrderItems::Table.into_iden(),
            Orders::Table.into_iden(),
            Products::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
