//! tower-sessions' store on our own database, so sessions survive a restart and share the one
//! writer and the one pool with everything else.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use tokio_util::sync::CancellationToken;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::entities::session::{self, Entity as Sessions};
use super::{Db, is_unique_violation, leads, now_millis};

const CLEANUP_EVERY: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct SessionDbStore {
    db: Db,
}

impl std::fmt::Debug for SessionDbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionDbStore")
    }
}

impl SessionDbStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn backend_err(err: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn to_model(record: &Record) -> Result<session::ActiveModel, session_store::Error> {
    let data = serde_json::to_string(&record.data)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    let expires_at = i64::try_from(record.expiry_date.unix_timestamp_nanos() / 1_000_000)
        .map_err(|e| session_store::Error::Encode(e.to_string()))?;
    Ok(session::ActiveModel {
        id: Set(record.id.to_string()),
        data: Set(data),
        expires_at: Set(expires_at),
    })
}

#[async_trait]
impl SessionStore for SessionDbStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let model = to_model(record)?;
            let inserted = self
                .db
                .write(move |txn| {
                    Box::pin(async move { Sessions::insert(model).exec(txn).await.map(|_| ()) })
                })
                .await;
            match inserted {
                Ok(()) => return Ok(()),
                // An id collision: draw another, as the trait asks.
                Err(err) if is_unique_violation(&err) => record.id = Id::default(),
                Err(err) => return Err(backend_err(err)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let model = to_model(record)?;
        self.db
            .write(move |txn| {
                Box::pin(async move {
                    Sessions::insert(model)
                        .on_conflict(
                            OnConflict::column(session::Column::Id)
                                .update_columns([session::Column::Data, session::Column::ExpiresAt])
                                .to_owned(),
                        )
                        .exec(txn)
                        .await
                        .map(|_| ())
                })
            })
            .await
            .map_err(backend_err)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let Some(row) = Sessions::find_by_id(id.to_string())
            .filter(session::Column::ExpiresAt.gt(now_millis()))
            .one(self.db.read())
            .await
            .map_err(backend_err)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(row.expires_at) * 1_000_000)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        let id = id.to_string();
        self.db
            .write(move |txn| {
                Box::pin(async move { Sessions::delete_by_id(id).exec(txn).await.map(|_| ()) })
            })
            .await
            .map_err(backend_err)
    }
}

/// Removes expired sessions every hour until `shutdown`, on one hub at a time: the one holding
/// the `sessions` lead (see [`leads`]).
pub async fn delete_expired_periodically(db: Db, node: Arc<str>, shutdown: CancellationToken) {
    leads::periodically(&db, "sessions", node, CLEANUP_EVERY, shutdown, || async {
        let now = now_millis();
        let deleted = db
            .write(move |txn| {
                Box::pin(async move {
                    Sessions::delete_many()
                        .filter(session::Column::ExpiresAt.lte(now))
                        .exec(txn)
                        .await
                })
            })
            .await;
        if let Err(err) = deleted {
            tracing::warn!(error = %err, "could not delete expired sessions");
        }
    })
    .await
}
