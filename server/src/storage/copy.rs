//! Copying a whole database to another, empty one: the move from one hub on a SQLite file to
//! several on PostgreSQL. Every table is copied in primary-key order and in batches, each row
//! as it is (ids, times, the exact bytes of bodies), tables that others refer to first. What
//! belongs to the hubs running now stays behind: the leads of the periodic jobs, the hubs'
//! heartbeats and the login throttle's counts.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityName, EntityTrait,
    IntoActiveModel, Iterable, ModelTrait, PaginatorTrait, PrimaryKeyToColumn, PrimaryKeyTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::Db;
use super::entities::{
    api_key, attempt, delivery, event, event_type, handler, handler_run, message, milestone,
    notice, refused_request, session, source, subscription, user,
};
use super::shapes::insert_all;

/// How far a copy has got, as it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub table: &'static str,
    pub copied: u64,
    pub total: u64,
}

/// Why a copy did not start or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the target database already holds {rows} row(s) in `{table}`; copy only into an empty database"
    )]
    TargetNotEmpty { table: &'static str, rows: u64 },
    #[error("copying `{table}`: {source}")]
    Failed {
        table: &'static str,
        #[source]
        source: DbErr,
    },
}

/// Copies everything in `from` to `to`, which must hold no data yet (its migrations applied,
/// as [`Db::open`] does), calling `progress` after every batch; the rows copied per table.
pub async fn copy_database(
    from: &Db,
    to: &Db,
    mut progress: impl FnMut(&Progress) + Send,
) -> Result<Vec<(&'static str, u64)>, CopyError> {
    let tables = tables();
    for table in &tables {
        let rows = (table.count)(to)
            .await
            .map_err(|source| CopyError::Failed {
                table: table.name,
                source,
            })?;
        if rows > 0 {
            return Err(CopyError::TargetNotEmpty {
                table: table.name,
                rows,
            });
        }
    }
    let mut copied = Vec::new();
    for table in &tables {
        let rows = (table.copy)(from, to, &mut progress)
            .await
            .map_err(|source| CopyError::Failed {
                table: table.name,
                source,
            })?;
        copied.push((table.name, rows));
    }
    Ok(copied)
}

type Count = for<'a> fn(&'a Db) -> futures::future::BoxFuture<'a, Result<u64, DbErr>>;
type Copy = for<'a> fn(
    &'a Db,
    &'a Db,
    &'a mut (dyn FnMut(&Progress) + Send),
) -> futures::future::BoxFuture<'a, Result<u64, DbErr>>;

struct Table {
    name: &'static str,
    count: Count,
    copy: Copy,
}

macro_rules! table {
    ($entity:ident, $batch:expr) => {
        Table {
            name: $entity::Entity.table_name(),
            count: |db| Box::pin(async move { $entity::Entity::find().count(db.read()).await }),
            copy: |from, to, progress| {
                Box::pin(copy_table::<$entity::Entity>(from, to, $batch, progress))
            },
        }
    };
}

/// Every table, each after the tables it refers to. Batches are smaller where rows carry
/// bodies, so a batch stays within memory whatever the bodies weigh.
fn tables() -> [Table; 15] {
    [
        table!(user, 500),
        table!(session, 500),
        table!(api_key, 500),
        table!(milestone, 500),
        table!(source, 500),
        table!(event, 64),
        table!(refused_request, 64),
        table!(handler, 500),
        table!(handler_run, 500),
        table!(event_type, 500),
        table!(subscription, 500),
        table!(notice, 500),
        table!(message, 64),
        table!(delivery, 500),
        table!(attempt, 64),
    ]
}

/// Copies one table in batches of `batch` rows, in primary-key order; how many rows. A table
/// whose key comes from a sequence then has the sequence moved past the ids copied.
async fn copy_table<E>(
    from: &Db,
    to: &Db,
    batch: u64,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<u64, DbErr>
where
    E: EntityTrait,
    E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
    E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
{
    let name = E::default().table_name();
    let key = E::PrimaryKey::iter()
        .next()
        .ok_or_else(|| DbErr::Custom(format!("`{name}` has no primary key")))?
        .into_column();
    let total = E::find().count(from.read()).await?;
    let mut copied = 0;
    let mut after: Option<sea_orm::Value> = None;
    loop {
        let mut page = E::find().order_by_asc(key).limit(batch);
        if let Some(after) = after.take() {
            page = page.filter(key.gt(after));
        }
        let rows = page.all(from.read()).await?;
        let Some(last) = rows.last() else {
            break;
        };
        after = Some(last.get(key));
        copied += rows.len() as u64;
        let rows: Vec<E::ActiveModel> = rows
            .into_iter()
            .map(|row| {
                let mut active = row.into_active_model();
                // Every column written as read: an unchanged value would be left out.
                for column in E::Column::iter() {
                    if let Some(value) = active.get(column).into_value() {
                        active.set(column, value);
                    }
                }
                active
            })
            .collect();
        to.write(move |txn| Box::pin(insert_all(txn, rows))).await?;
        progress(&Progress {
            table: name,
            copied,
            total,
        });
    }
    if <E::PrimaryKey as PrimaryKeyTrait>::auto_increment() {
        restart_ids(to, name).await?;
    }
    Ok(copied)
}

/// Moves the sequence behind `table.id` past the ids copied, so new rows do not collide with
/// them. SQLite takes the next id from the rows themselves.
async fn restart_ids(db: &Db, table: &'static str) -> Result<(), DbErr> {
    if !db.is_postgres() {
        return Ok(());
    }
    db.write(move |txn| {
        Box::pin(async move {
            txn.execute_unprepared(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) \
                 FROM {table} HAVING max(id) IS NOT NULL"
            ))
            .await
            .map(drop)
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::users;

    #[test]
    fn every_table_is_copied_but_what_running_hubs_keep() {
        let names: Vec<&str> = tables().iter().map(|t| t.name).collect();
        assert_eq!(names.len(), 15);
        for kept in ["leads", "hubs", "login_failures"] {
            assert!(!names.contains(&kept));
        }
    }

    #[tokio::test]
    async fn a_copy_keeps_every_row_and_refuses_a_target_with_data() {
        let from_dir = tempfile::tempdir().unwrap();
        let from = Db::open(from_dir.path().join("from.db")).await.unwrap();
        for name in ["ana", "bo"] {
            users::create(&from, name.into(), "hash".into(), false, false)
                .await
                .unwrap();
        }
        let (_dir, to) = Db::open_temp().await;
        let mut reports = Vec::new();
        let copied = copy_database(&from, &to, |p| reports.push(p.clone()))
            .await
            .unwrap();
        assert!(copied.contains(&("users", 2)), "{copied:?}");
        assert!(copied.contains(&("events", 0)), "{copied:?}");
        assert_eq!(
            reports[0],
            Progress {
                table: "users",
                copied: 2,
                total: 2
            }
        );
        let names: Vec<String> = users::list(&to)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.username)
            .collect();
        assert_eq!(names, ["ana", "bo"]);
        // New rows take ids past the copied ones.
        users::create(&to, "cy".into(), "hash".into(), false, false)
            .await
            .unwrap();
        assert_eq!(users::count(&to).await.unwrap(), 3);

        let again = copy_database(&from, &to, |_| {}).await.unwrap_err();
        assert!(
            matches!(
                again,
                CopyError::TargetNotEmpty {
                    table: "users",
                    rows: 3
                }
            ),
            "{again}"
        );
    }
}
