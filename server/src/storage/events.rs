//! Received events, stored exactly as they came, and the capped log of refused requests.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::event::{self, Entity as Events};
use super::entities::refused_request::{self, Entity as RefusedRequests};
use super::{Db, is_unique_violation};
pub use event::Model as Event;
pub use refused_request::Model as RefusedRequest;

/// Refused requests kept per source; older ones are dropped so a flood cannot fill the disk.
pub const REFUSED_KEPT_PER_SOURCE: u64 = 200;

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub source_id: String,
    pub received_at: i64,
    pub method: String,
    pub headers: String,
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub remote_addr: Option<String>,
    pub event_type: Option<String>,
    pub delivery_id: Option<String>,
    pub verification: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New(i64),
    /// The provider sent this delivery id before; the first copy's id.
    Duplicate(i64),
}

/// Commits the event (answering only after the commit), or finds the earlier copy of the same
/// delivery.
pub async fn insert(db: &Db, new: NewEvent) -> Result<Stored, DbErr> {
    db.writer()
        .write(move |txn| {
            Box::pin(async move {
                let source_id = new.source_id.clone();
                let delivery_id = new.delivery_id.clone();
                let inserted = event::ActiveModel {
                    source_id: Set(new.source_id),
                    received_at: Set(new.received_at),
                    method: Set(new.method),
                    headers: Set(new.headers),
                    body: Set(new.body),
                    content_type: Set(new.content_type),
                    remote_addr: Set(new.remote_addr),
                    event_type: Set(new.event_type),
                    delivery_id: Set(new.delivery_id),
                    verification: Set(new.verification),
                    ..Default::default()
                }
                .insert(txn)
                .await;
                match inserted {
                    Ok(event) => Ok(Stored::New(event.id)),
                    Err(err) if is_unique_violation(&err) => {
                        let first = Events::find()
                            .filter(event::Column::SourceId.eq(source_id))
                            .filter(event::Column::DeliveryId.eq(delivery_id))
                            .one(txn)
                            .await?
                            .ok_or(err)?;
                        Ok(Stored::Duplicate(first.id))
                    }
                    Err(err) => Err(err),
                }
            })
        })
        .await
}

pub async fn find(db: &Db, id: i64) -> Result<Option<Event>, DbErr> {
    Events::find_by_id(id).one(db.read()).await
}

/// Which events to list: newest first, older than `before` (an event id) when paging on.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub source_id: Option<String>,
    pub event_type: Option<String>,
    pub before: Option<i64>,
    pub limit: u64,
}

pub async fn list(db: &Db, filter: EventFilter) -> Result<Vec<Event>, DbErr> {
    let mut query = Events::find()
        .order_by_desc(event::Column::Id)
        .limit(filter.limit);
    if let Some(source_id) = filter.source_id {
        query = query.filter(event::Column::SourceId.eq(source_id));
    }
    if let Some(event_type) = filter.event_type {
        query = query.filter(event::Column::EventType.eq(event_type));
    }
    if let Some(before) = filter.before {
        query = query.filter(event::Column::Id.lt(before));
    }
    query.all(db.read()).await
}

/// Records a refused request and drops the source's oldest beyond the cap, in one write.
pub async fn record_refused(
    db: &Db,
    source_id: String,
    reason: String,
    remote_addr: Option<String>,
    headers: String,
    body_prefix: Vec<u8>,
    received_at: i64,
) -> Result<(), DbErr> {
    db.writer()
        .write(move |txn| {
            Box::pin(async move {
                refused_request::ActiveModel {
                    source_id: Set(source_id.clone()),
                    received_at: Set(received_at),
                    reason: Set(reason),
                    remote_addr: Set(remote_addr),
                    headers: Set(headers),
                    body_prefix: Set(body_prefix),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                let oldest_kept = RefusedRequests::find()
                    .filter(refused_request::Column::SourceId.eq(source_id.clone()))
                    .order_by_desc(refused_request::Column::Id)
                    .offset(REFUSED_KEPT_PER_SOURCE - 1)
                    .limit(1)
                    .one(txn)
                    .await?;
                if let Some(oldest_kept) = oldest_kept {
                    RefusedRequests::delete_many()
                        .filter(refused_request::Column::SourceId.eq(source_id))
                        .filter(refused_request::Column::Id.lt(oldest_kept.id))
                        .exec(txn)
                        .await?;
                }
                Ok(())
            })
        })
        .await
}

/// Newest first.
pub async fn list_refused(db: &Db, source_id: &str) -> Result<Vec<RefusedRequest>, DbErr> {
    RefusedRequests::find()
        .filter(refused_request::Column::SourceId.eq(source_id))
        .order_by_desc(refused_request::Column::Id)
        .all(db.read())
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sources::{self, NewSource};

    async fn db_with_source() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("e.db")).await.unwrap();
        sources::create(
            &db,
            NewSource {
                id: "src_test".into(),
                name: "test".into(),
                provider: "github".into(),
                settings: "{}".into(),
                secret: "s".into(),
            },
        )
        .await
        .unwrap();
        (dir, db)
    }

    fn event(delivery_id: Option<&str>, body: &[u8]) -> NewEvent {
        NewEvent {
            source_id: "src_test".into(),
            received_at: 1,
            method: "POST".into(),
            headers: "[]".into(),
            body: body.to_vec(),
            content_type: None,
            remote_addr: None,
            event_type: Some("push".into()),
            delivery_id: delivery_id.map(str::to_owned),
            verification: "verified".into(),
        }
    }

    #[tokio::test]
    async fn a_repeated_delivery_id_is_stored_once() {
        let (_dir, db) = db_with_source().await;
        let Stored::New(first) = insert(&db, event(Some("d-1"), b"one")).await.unwrap() else {
            panic!("first copy not new");
        };
        assert_eq!(
            insert(&db, event(Some("d-1"), b"again")).await.unwrap(),
            Stored::Duplicate(first)
        );
        // Events without a delivery id are never duplicates of each other.
        assert!(matches!(
            insert(&db, event(None, b"x")).await.unwrap(),
            Stored::New(_)
        ));
        assert!(matches!(
            insert(&db, event(None, b"x")).await.unwrap(),
            Stored::New(_)
        ));
        assert_eq!(find(&db, first).await.unwrap().unwrap().body, b"one");
        let all = EventFilter {
            source_id: Some("src_test".into()),
            limit: 10,
            ..Default::default()
        };
        let listed = list(&db, all.clone()).await.unwrap();
        assert_eq!(listed.len(), 3);
        let older = list(
            &db,
            EventFilter {
                before: Some(listed[0].id),
                ..all
            },
        )
        .await
        .unwrap();
        assert_eq!(older.len(), 2);
        assert!(older.iter().all(|e| e.id < listed[0].id));
    }

    #[tokio::test]
    async fn refused_log_keeps_only_the_newest_per_source() {
        let (_dir, db) = db_with_source().await;
        for i in 0..REFUSED_KEPT_PER_SOURCE + 5 {
            record_refused(
                &db,
                "src_test".into(),
                format!("r{i}"),
                None,
                "[]".into(),
                Vec::new(),
                1,
            )
            .await
            .unwrap();
        }
        let kept = list_refused(&db, "src_test").await.unwrap();
        assert_eq!(kept.len() as u64, REFUSED_KEPT_PER_SOURCE);
        assert_eq!(kept[0].reason, format!("r{}", REFUSED_KEPT_PER_SOURCE + 4));
        assert_eq!(kept.last().unwrap().reason, "r5");
    }
}
