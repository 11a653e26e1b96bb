//! The hubs sharing this database: each says it is alive every [`HEARTBEAT`], and one that has
//! not for three of them is taken to have stopped.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use tokio_util::sync::CancellationToken;

use super::entities::hub::{self, Entity as Hubs};
use super::{Db, now_millis};

pub use super::entities::hub::Model as HubRow;

pub const HEARTBEAT: Duration = Duration::from_secs(10);

/// Records that the hub `node`, running `version` since `started_at`, is alive now.
pub async fn heartbeat(
    db: &Db,
    node: Arc<str>,
    version: &'static str,
    started_at: i64,
) -> Result<(), DbErr> {
    let row = hub::ActiveModel {
        node_id: Set(node.to_string()),
        version: Set(version.to_owned()),
        started_at: Set(started_at),
        last_seen: Set(now_millis()),
    };
    db.write(move |txn| {
        Box::pin(async move {
            Hubs::insert(row)
                .on_conflict(
                    OnConflict::column(hub::Column::NodeId)
                        .update_columns([
                            hub::Column::Version,
                            hub::Column::StartedAt,
                            hub::Column::LastSeen,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(txn)
                .await
                .map(drop)
        })
    })
    .await
}

/// The hubs seen alive lately, by node id.
pub async fn alive(db: &Db) -> Result<Vec<HubRow>, DbErr> {
    let since = now_millis() - 3 * HEARTBEAT.as_millis() as i64;
    Hubs::find()
        .filter(hub::Column::LastSeen.gte(since))
        .order_by_asc(hub::Column::NodeId)
        .all(db.read())
        .await
}

/// Says the hub is alive every [`HEARTBEAT`] until `shutdown`.
pub async fn beat_periodically(
    db: Db,
    node: Arc<str>,
    version: &'static str,
    started_at: i64,
    shutdown: CancellationToken,
) {
    loop {
        if let Err(err) = heartbeat(&db, Arc::clone(&node), version, started_at).await {
            tracing::warn!(error = %err, "recording that this hub is alive failed");
        }
        tokio::select! {
            () = tokio::time::sleep(HEARTBEAT) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hubs_that_beat_are_alive_and_one_that_stopped_is_not() {
        let (_dir, db) = Db::open_temp().await;
        heartbeat(&db, "hub-b".into(), "1.0.0", 5).await.unwrap();
        heartbeat(&db, "hub-a".into(), "1.0.0", 7).await.unwrap();
        heartbeat(&db, "hub-a".into(), "1.1.0", 9).await.unwrap();
        let stopped = hub::ActiveModel {
            node_id: Set("hub-c".into()),
            version: Set("0.9.0".into()),
            started_at: Set(1),
            last_seen: Set(now_millis() - 60_000),
        };
        db.write(move |txn| {
            Box::pin(async move { Hubs::insert(stopped).exec(txn).await.map(drop) })
        })
        .await
        .unwrap();
        let alive: Vec<(String, String, i64)> = alive(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|h| (h.node_id, h.version, h.started_at))
            .collect();
        assert_eq!(
            alive,
            [
                ("hub-a".to_owned(), "1.1.0".to_owned(), 9),
                ("hub-b".to_owned(), "1.0.0".to_owned(), 5)
            ]
        );
    }
}
