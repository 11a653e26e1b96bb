//! Milestones: things that happen once in a hub's life, each a row under a unique name, so that
//! of any number of writers trying at once exactly one records it. The first-run setup is
//! `set_up`; a hub set up before this table existed gets its row here.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Milestones {
    Table,
    Name,
    ReachedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Milestones::Table)
                    .col(string(Milestones::Name).primary_key())
                    .col(big_integer(Milestones::ReachedAt))
                    .to_owned(),
            )
            .await?;
        let first_user = Query::select()
            .expr(Expr::val("set_up"))
            .expr(Func::min(Expr::col(Users::CreatedAt)))
            .from(Users::Table)
            .and_having(Func::count(Expr::col(Users::CreatedAt)).gt(0))
            .to_owned();
        let set_up = Query::insert()
            .into_table(Milestones::Table)
            .columns([Milestones::Name, Milestones::ReachedAt])
            .select_from(first_user)
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        manager.exec_stmt(set_up).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Milestones::Table).to_owned())
            .await
    }
}
