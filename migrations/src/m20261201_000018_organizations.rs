//! Organizations (multi-tenancy): organizations with a unique slug, memberships (one per
//! organization and user, the role as text) and invitations (the token stored as its SHA-256,
//! set when the mail goes out; single use through `accepted_at`). Memberships and invitations go
//! with their organization; memberships with their user.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organizations {
    Table,
    Id,
    Name,
    Slug,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrgMemberships {
    Table,
    Id,
    OrgId,
    UserId,
    Role,
    JoinedAt,
}

#[derive(DeriveIden)]
enum OrgInvitations {
    Table,
    Id,
    OrgId,
    Email,
    Role,
    InvitedBy,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    AcceptedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(ColumnDef::new(Organizations::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Organizations::Name).string_len(400).not_null())
                    .col(ColumnDef::new(Organizations::Slug).string_len(40).not_null())
                    .col(ColumnDef::new(Organizations::CreatedAt).timestamp_with_time_zone().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_organizations_slug")
                    .table(Organizations::Table)
                    .col(Organizations::Slug)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrgMemberships::Table)
                    .col(ColumnDef::new(OrgMemberships::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(OrgMemberships::OrgId).uuid().not_null())
                    .col(ColumnDef::new(OrgMemberships::UserId).uuid().not_null())
                    .col(ColumnDef::new(OrgMemberships::Role).string_len(16).not_null())
                    .col(ColumnDef::new(OrgMemberships::JoinedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_org_memberships_org")
                            .from(OrgMemberships::Table, OrgMemberships::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_org_memberships_user")
                            .from(OrgMemberships::Table, OrgMemberships::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // One membership per (organization, user): what makes a doubly accepted invitation one
        // membership, and every org-scoped request's membership read one index probe.
        manager
            .create_index(
                Index::create()
                    .name("ux_org_memberships_member")
                    .table(OrgMemberships::Table)
                    .col(OrgMemberships::OrgId)
                    .col(OrgMemberships::UserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_org_memberships_user")
                    .table(OrgMemberships::Table)
                    .col(OrgMemberships::UserId)
                    .col(OrgMemberships::JoinedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrgInvitations::Table)
                    .col(ColumnDef::new(OrgInvitations::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(OrgInvitations::OrgId).uuid().not_null())
                    .col(ColumnDef::new(OrgInvitations::Email).string_len(254).not_null())
                    .col(ColumnDef::new(OrgInvitations::Role).string_len(16).not_null())
                    .col(ColumnDef::new(OrgInvitations::InvitedBy).uuid().not_null())
                    .col(ColumnDef::new(OrgInvitations::TokenHash).string_len(64).null())
                    .col(ColumnDef::new(OrgInvitations::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OrgInvitations::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(OrgInvitations::AcceptedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(OrgInvitations::AcceptedBy).uuid().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_org_invitations_org")
                            .from(OrgInvitations::Table, OrgInvitations::OrgId)
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Acceptance finds the invitation by its token's hash (NULL until the mail is sent; both
        // databases allow many NULLs under a unique index).
        manager
            .create_index(
                Index::create()
                    .name("ux_org_invitations_token")
                    .table(OrgInvitations::Table)
                    .col(OrgInvitations::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_org_invitations_org")
                    .table(OrgInvitations::Table)
                    .col(OrgInvitations::OrgId)
                    .col(OrgInvitations::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(OrgInvitations::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(OrgMemberships::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Organizations::Table).to_owned()).await
    }
}
