//! Received events, stored exactly as they came, and the capped log of refused requests.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use futures::future::BoxFuture;
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};

use super::batches::Batched;
use super::columns::{HeaderPairs, JsonText};
use super::entities::event::{self, Entity as Events};
use super::entities::refused_request::{self, Entity as RefusedRequests};
use super::handlers::{self, PlannedRun};
use super::paging::{self, Cursor};
use super::search;
use super::states::Handling;
use super::{Db, insert_new};
use crate::ids::SourceId;
pub use event::Model as Event;
pub use refused_request::Model as RefusedRequest;

/// Refused requests kept per source; older ones are dropped so a flood cannot fill the disk.
pub const REFUSED_KEPT_PER_SOURCE: u64 = 200;

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub source_id: SourceId,
    pub received_at: i64,
    pub method: String,
    pub headers: JsonText<HeaderPairs>,
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

/// Commits the event with its queued handler runs (answering only after the commit), or finds
/// the earlier copy of the same delivery, whose runs were queued with it.
pub async fn insert(db: &Db, new: NewEvent, runs: Vec<PlannedRun>) -> Result<Stored, DbErr> {
    // The common case, a delivery with an id and nothing to queue, is stored with the others
    // that arrive meanwhile.
    if runs.is_empty() && new.delivery_id.is_some() {
        return db.inserts.write(new).await;
    }
    // Without handler runs to queue, the event's row is the write's only change.
    if runs.is_empty() {
        db.write_statement(move |txn| Box::pin(store(txn, new, runs)))
            .await
    } else {
        db.write_batched(move |txn| Box::pin(store(txn, new, runs)))
            .await
    }
}

async fn store(
    txn: &DatabaseTransaction,
    new: NewEvent,
    runs: Vec<PlannedRun>,
) -> Result<Stored, DbErr> {
    let received_at = new.received_at;
    let source_id = new.source_id.clone();
    let delivery_id = new.delivery_id.clone();
    let row = event::ActiveModel {
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
        handling: Set(Handling::None),
        ..Default::default()
    };
    let key = [event::Column::SourceId, event::Column::DeliveryId];
    if let Some(id) = insert_new(txn, row, key).await? {
        handlers::queue(txn, id, runs, received_at).await?;
        return Ok(Stored::New(id));
    }
    let delivery_id = delivery_id.unwrap_or_default();
    Ok(Stored::Duplicate(
        first_copy(txn, &source_id, &delivery_id).await?,
    ))
}

/// Received events with a delivery id and no handler runs are stored together (see
/// [`super::batches`]): one multi-row insert per batch.
impl Batched for NewEvent {
    type Written = Stored;
    /// 11 values a row.
    const MAX: usize = 512;
    const ONE_STATEMENT: bool = true;

    fn write_all<'c>(
        txn: &'c DatabaseTransaction,
        items: &'c [Arc<Self>],
    ) -> BoxFuture<'c, Result<Vec<Stored>, DbErr>> {
        Box::pin(store_all(txn, items))
    }
}

/// Inserts `events` in one statement and says, in their order, what became of each: stored, or
/// a duplicate of a delivery stored before (in an earlier batch, or earlier in this one).
async fn store_all(
    txn: &DatabaseTransaction,
    events: &[Arc<NewEvent>],
) -> Result<Vec<Stored>, DbErr> {
    let rows = events.iter().map(|new| event::ActiveModel {
        source_id: Set(new.source_id.clone()),
        received_at: Set(new.received_at),
        method: Set(new.method.clone()),
        headers: Set(new.headers.clone()),
        body: Set(new.body.clone()),
        content_type: Set(new.content_type.clone()),
        remote_addr: Set(new.remote_addr.clone()),
        event_type: Set(new.event_type.clone()),
        delivery_id: Set(new.delivery_id.clone()),
        verification: Set(new.verification.clone()),
        handling: Set(Handling::None),
        ..Default::default()
    });
    let mut insert = Events::insert_many(rows).on_conflict(
        OnConflict::columns([event::Column::SourceId, event::Column::DeliveryId])
            .do_nothing()
            .to_owned(),
    );
    let statement = QueryTrait::query(&mut insert)
        .returning(Query::returning().columns([
            event::Column::Id,
            event::Column::SourceId,
            event::Column::DeliveryId,
        ]))
        .to_owned();
    let statement = txn.get_database_backend().build(&statement);
    let mut inserted: HashMap<(String, String), i64> = HashMap::with_capacity(events.len());
    for row in txn.query_all_raw(statement).await? {
        let key = (
            row.try_get("", "source_id")?,
            row.try_get("", "delivery_id")?,
        );
        inserted.insert(key, row.try_get("", "id")?);
    }
    let mut stored = Vec::with_capacity(events.len());
    let mut seen = HashSet::with_capacity(events.len());
    for new in events {
        let key = (
            new.source_id.to_string(),
            new.delivery_id.clone().unwrap_or_default(),
        );
        stored.push(match inserted.get(&key).copied() {
            Some(id) if seen.insert(id) => Stored::New(id),
            Some(id) => Stored::Duplicate(id),
            None => Stored::Duplicate(first_copy(txn, &new.source_id, &key.1).await?),
        });
    }
    Ok(stored)
}

async fn first_copy(
    txn: &DatabaseTransaction,
    source_id: &SourceId,
    delivery_id: &str,
) -> Result<i64, DbErr> {
    Events::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::SourceId.eq(source_id.as_str()))
        .filter(event::Column::DeliveryId.eq(delivery_id))
        .into_tuple()
        .one(txn)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the first copy of a delivery".into()))
}

pub async fn find(db: &Db, id: i64) -> Result<Option<Event>, DbErr> {
    Events::find_by_id(id).one(db.read()).await
}

/// Which events to list: newest first, paged by id.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub source_id: Option<String>,
    pub event_type: Option<String>,
    /// `none`, `pending`, `ok` or `failed`.
    pub handling: Option<Handling>,
    /// Received at or after, in milliseconds.
    pub from: Option<i64>,
    /// Received before, in milliseconds.
    pub to: Option<i64>,
    /// Words that must all appear in the body; the last may be the start of a word.
    pub text: Option<String>,
    pub cursor: Cursor,
    pub limit: u64,
}

/// A page of events, newest first, wherever `filter.cursor` puts it.
pub async fn list(db: &Db, filter: EventFilter) -> Result<Vec<Event>, DbErr> {
    let page = matching(db, &filter, filter.cursor)
        .await?
        .limit(filter.limit)
        .all(db.read())
        .await?;
    Ok(filter.cursor.newest_first(page))
}

/// A source's events with ids in `above..=up_to` (`None`: no upper bound), received at or after
/// `since`, oldest first: what a relay streams next.
pub async fn following(
    db: &Db,
    source_id: &str,
    above: i64,
    up_to: Option<i64>,
    since: Option<i64>,
    limit: u64,
) -> Result<Vec<Event>, DbErr> {
    Events::find()
        .filter(event::Column::SourceId.eq(source_id))
        .filter(event::Column::Id.gt(above))
        .apply_if(up_to, |q, up_to| q.filter(event::Column::Id.lte(up_to)))
        .apply_if(since, |q, since| {
            q.filter(event::Column::ReceivedAt.gte(since))
        })
        .order_by_asc(event::Column::Id)
        .limit(limit)
        .all(db.read())
        .await
}

/// The id of a source's newest event; 0 when it has none.
pub async fn newest_id(db: &Db, source_id: &str) -> Result<i64, DbErr> {
    let newest: Option<i64> = Events::find()
        .select_only()
        .column(event::Column::Id)
        .filter(event::Column::SourceId.eq(source_id))
        .order_by_desc(event::Column::Id)
        .into_tuple()
        .one(db.read())
        .await?;
    Ok(newest.unwrap_or(0))
}

/// How many events match `filter`, its cursor left aside, and how many of them are newer than
/// `newer_than` (see [`paging::total_and_newer`]).
pub async fn count(
    db: &Db,
    filter: &EventFilter,
    newer_than: Option<i64>,
) -> Result<(u64, u64), DbErr> {
    paging::total_and_newer(db, newer_than, |cursor| matching(db, filter, cursor)).await
}

/// The events `filter` asks for, ordered and bounded as `cursor` says.
async fn matching(db: &Db, filter: &EventFilter, cursor: Cursor) -> Result<Select<Events>, DbErr> {
    let mut query = Events::find();
    if let Some(source_id) = &filter.source_id {
        query = query.filter(event::Column::SourceId.eq(source_id.as_str()));
    }
    if let Some(event_type) = &filter.event_type {
        query = query.filter(event::Column::EventType.eq(event_type.as_str()));
    }
    if let Some(handling) = filter.handling {
        query = query.filter(event::Column::Handling.eq(handling));
    }
    if let Some(from) = filter.from {
        query = query.filter(event::Column::ReceivedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(event::Column::ReceivedAt.lt(to));
    }
    let searched = match filter.text.as_deref() {
        Some(text) => search::narrow(db, &mut query, text, cursor).await?,
        None => false,
    };
    if !searched {
        cursor.bound(
            QueryTrait::query(&mut query),
            Expr::col((Events, event::Column::Id)),
        );
    }
    Ok(query)
}

/// A request refused before it was stored, as the refused-request log keeps it.
pub struct Refused {
    pub source_id: SourceId,
    /// What kind of refusal (`signature_mismatch`, …), for counting.
    pub kind: &'static str,
    /// Why, in words.
    pub reason: String,
    pub remote_addr: Option<String>,
    pub headers: JsonText<HeaderPairs>,
    pub body_prefix: Vec<u8>,
    pub received_at: i64,
}

/// Records a refused request and drops the source's oldest beyond the cap, in one write.
pub async fn record_refused(db: &Db, refused: Refused) -> Result<(), DbErr> {
    let source_id = refused.source_id;
    db.write(move |txn| {
        Box::pin(async move {
            refused_request::ActiveModel {
                source_id: Set(source_id.clone()),
                received_at: Set(refused.received_at),
                kind: Set(Some(refused.kind.to_owned())),
                reason: Set(refused.reason),
                remote_addr: Set(refused.remote_addr),
                headers: Set(refused.headers),
                body_prefix: Set(refused.body_prefix),
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
    use crate::storage::search::{Search, completions, index_for_search};
    use crate::storage::sources::{self, NewSource};
    use sea_orm::ConnectionTrait;

    async fn db_with_source() -> (tempfile::TempDir, Db) {
        let (dir, db) = Db::open_temp().await;
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

    #[tokio::test]
    async fn runs_of_one_event_finishing_at_once_leave_it_handled() {
        use crate::ids::HandlerId;
        use crate::storage::handlers::{self, Finish, PlannedRun};

        let (_dir, db) = db_with_source().await;
        for round in 0..5 {
            let runs = (0..4)
                .map(|position| PlannedRun {
                    handler_id: HandlerId::generate(),
                    handler_kind: "record".into(),
                    position,
                })
                .collect();
            let delivery = format!("d{round}");
            let Stored::New(id) = insert(&db, event(Some(&delivery), b"{}"), runs)
                .await
                .unwrap()
            else {
                panic!("stored before");
            };
            let now = crate::storage::now_millis() + 1_000;
            let claimed = handlers::claim_due(&db, "hub".into(), now, 10, 60_000)
                .await
                .unwrap();
            assert_eq!(claimed.len(), 4);
            let finishing = claimed
                .into_iter()
                .map(|run| handlers::finish(&db, run, Finish::Ok("done".into()), now));
            for finished in futures::future::join_all(finishing).await {
                finished.unwrap();
            }
            let handled = find(&db, id).await.unwrap().unwrap().handling;
            assert_eq!(handled, Handling::Ok, "round {round}");
        }
    }

    fn event(delivery_id: Option<&str>, body: &[u8]) -> NewEvent {
        NewEvent {
            source_id: "src_test".into(),
            received_at: 1,
            method: "POST".into(),
            headers: JsonText::default(),
            body: body.to_vec(),
            content_type: None,
            remote_addr: None,
            event_type: Some("push".into()),
            delivery_id: delivery_id.map(str::to_owned),
            verification: "verified".into(),
        }
    }

    async fn store(db: &Db, delivery_id: Option<&str>, body: &[u8]) -> Stored {
        insert(db, event(delivery_id, body), Vec::new())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_repeated_delivery_id_is_stored_once() {
        let (_dir, db) = db_with_source().await;
        let Stored::New(first) = store(&db, Some("d-1"), b"one").await else {
            panic!("first copy not new");
        };
        assert_eq!(
            store(&db, Some("d-1"), b"again").await,
            Stored::Duplicate(first)
        );
        // Events without a delivery id are never duplicates of each other.
        assert!(matches!(store(&db, None, b"x").await, Stored::New(_)));
        assert!(matches!(store(&db, None, b"x").await, Stored::New(_)));
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
                cursor: Cursor::Before(listed[0].id),
                ..all.clone()
            },
        )
        .await
        .unwrap();
        assert_eq!(older.len(), 2);
        assert!(older.iter().all(|e| e.id < listed[0].id));

        // Back towards the newest: the rows just newer than the oldest, still newest first.
        let newer = list(
            &db,
            EventFilter {
                cursor: Cursor::After(listed[2].id),
                limit: 1,
                ..all.clone()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            newer.iter().map(|e| e.id).collect::<Vec<_>>(),
            [listed[1].id]
        );
        // Counted with the filters, the cursor left aside; and how many come before a row.
        assert_eq!(count(&db, &all, Some(listed[1].id)).await.unwrap(), (3, 1));
        let elsewhere = EventFilter {
            source_id: Some("src_other".into()),
            ..all
        };
        assert_eq!(count(&db, &elsewhere, None).await.unwrap(), (0, 0));
    }

    /// Concurrent deliveries are stored together: each id once, its repeats (in the same batch
    /// or a later one) answered with the first copy's id, and a row that cannot be stored (its
    /// source is gone) refused alone.
    #[tokio::test]
    async fn deliveries_stored_together_keep_their_own_outcomes() {
        let (_dir, db) = db_with_source().await;
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..300 {
            let db = db.clone();
            tasks.spawn(async move {
                let id = format!("d-{}", n % 100);
                let mut new = event(Some(&id), id.as_bytes());
                if n == 150 {
                    new.source_id = "src_missing".into();
                }
                (n, id, insert(&db, new, Vec::new()).await)
            });
        }
        let mut outcomes: HashMap<String, Vec<Stored>> = HashMap::new();
        while let Some(done) = tasks.join_next().await {
            let (n, id, stored) = done.unwrap();
            if n == 150 {
                assert!(stored.is_err(), "an event of a missing source was stored");
                continue;
            }
            outcomes.entry(id).or_default().push(stored.unwrap());
        }
        assert_eq!(outcomes.len(), 100);
        for (id, stored) in &outcomes {
            let new: Vec<i64> = stored
                .iter()
                .filter_map(|s| match s {
                    Stored::New(row) => Some(*row),
                    Stored::Duplicate(_) => None,
                })
                .collect();
            assert_eq!(new.len(), 1, "{id}: {stored:?}");
            assert!(
                stored.iter().all(
                    |s| matches!(s, Stored::New(row) | Stored::Duplicate(row) if *row == new[0])
                ),
                "{id}: {stored:?}"
            );
            let row = find(&db, new[0]).await.unwrap().unwrap();
            assert_eq!(row.body, id.as_bytes());
        }
        let all = EventFilter {
            limit: 1000,
            ..Default::default()
        };
        assert_eq!(list(&db, all).await.unwrap().len(), 100);
    }

    #[tokio::test]
    async fn refused_log_keeps_only_the_newest_per_source() {
        let (_dir, db) = db_with_source().await;
        for i in 0..REFUSED_KEPT_PER_SOURCE + 5 {
            let refused = Refused {
                source_id: "src_test".into(),
                kind: "signature_mismatch",
                reason: format!("r{i}"),
                remote_addr: None,
                headers: JsonText::default(),
                body_prefix: Vec::new(),
                received_at: 1,
            };
            record_refused(&db, refused).await.unwrap();
        }
        let kept = list_refused(&db, "src_test").await.unwrap();
        assert_eq!(kept.len() as u64, REFUSED_KEPT_PER_SOURCE);
        assert_eq!(kept[0].reason, format!("r{}", REFUSED_KEPT_PER_SOURCE + 4));
        assert_eq!(kept.last().unwrap().reason, "r5");
    }

    async fn search(db: &Db, text: &str, before: Option<i64>) -> Vec<Vec<u8>> {
        index_for_search(db, 1000).await.unwrap();
        let filter = EventFilter {
            text: Some(text.into()),
            cursor: before.map_or(Cursor::Newest, Cursor::Before),
            limit: 10,
            ..Default::default()
        };
        list(db, filter)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.body)
            .collect()
    }

    #[tokio::test]
    async fn text_search_finds_words_and_prefixes_newest_first() {
        let (_dir, db) = db_with_source().await;
        for body in [
            r#"{"customer":"cus_42","note":"octocat pushed"}"#,
            r#"{"customer":"cus_43","note":"Octocat again"}"#,
            r#"{"customer":"cus_44","note":"someone else"}"#,
        ] {
            store(&db, None, body.as_bytes()).await;
        }
        store(&db, None, &[0xff, 0xfe, b'o', b'c', b't']).await;

        let found = search(&db, "octocat", None).await;
        assert_eq!(found.len(), 2);
        assert!(
            found[0].starts_with(br#"{"customer":"cus_43""#),
            "newest first"
        );
        assert_eq!(search(&db, "OCTO", None).await.len(), 2, "prefix, any case");
        assert_eq!(search(&db, "cus_44", None).await.len(), 1);
        assert_eq!(search(&db, "octocat again", None).await.len(), 1);
        assert!(search(&db, "nobody", None).await.is_empty());

        let newest = list(
            &db,
            EventFilter {
                text: Some("octocat".into()),
                limit: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let older = search(&db, "octocat", Some(newest[0].id)).await;
        assert_eq!(older.len(), 1);
        assert!(older[0].starts_with(br#"{"customer":"cus_42""#));
    }

    #[tokio::test]
    async fn the_last_word_finishes_as_any_indexed_word() {
        let (_dir, db) = db_with_source().await;
        for i in 0..20 {
            store(&db, None, format!("{{\"tag\":\"word{i:02}\"}}").as_bytes()).await;
        }
        store(&db, None, "crème brûlée for cus_42 and cus_43".as_bytes()).await;

        assert_eq!(
            search(&db, "word0", None).await.len(),
            10,
            "ten words, spelled out"
        );
        let many = EventFilter {
            text: Some("WORD".into()),
            limit: 50,
            ..Default::default()
        };
        assert_eq!(
            list(&db, many).await.unwrap().len(),
            20,
            "every prefix match"
        );
        // Finishing a word from FTS5's word list is SQLite's; PostgreSQL's index takes a
        // prefix as it is.
        if !db.is_postgres() {
            assert_eq!(
                completions(&db, "word0").await.unwrap().map(|w| w.len()),
                Some(10)
            );
            assert_eq!(completions(&db, "word").await.unwrap(), None, "too many");
            assert_eq!(completions(&db, "nothing").await.unwrap(), None);
            assert_eq!(completions(&db, "").await.unwrap(), None);
            assert_eq!(completions(&db, "wordé").await.unwrap(), None);
        }
        assert!(search(&db, "nothing", None).await.is_empty());

        assert_eq!(
            search(&db, "cus_4", None).await.len(),
            1,
            "after punctuation"
        );
        assert_eq!(search(&db, "tag\":\"word1", None).await.len(), 10);
        assert_eq!(
            search(&db, "crè", None).await.len(),
            1,
            "accents: FTS5's prefix"
        );
        assert_eq!(search(&db, "brulee", None).await.len(), 1, "accents folded");
    }

    #[test]
    fn only_plain_ascii_word_ends_are_spelled_out() {
        let prefix = |text| Search::parse(text).and_then(|search| search.prefix());
        assert_eq!(prefix("push Octo").as_deref(), Some("octo"));
        assert_eq!(prefix("cus_4").as_deref(), Some("4"));
        assert_eq!(prefix(r#""octo","#).as_deref(), Some("octo"));
        assert_eq!(prefix("crè"), None);
        assert_eq!(prefix("éa"), None);
        assert_eq!(prefix("aé"), None);
        assert_eq!(prefix("a-é"), None);
        assert_eq!(prefix("é-a").as_deref(), Some("a"));
        assert_eq!(prefix("--"), None);
    }

    #[tokio::test]
    async fn the_indexer_takes_each_event_once_in_batches() {
        let (_dir, db) = db_with_source().await;
        for i in 0..5 {
            store(&db, None, format!("word{i} common").as_bytes()).await;
        }
        assert!(search(&db, "word4", None).await.len() == 1);
        for i in 5..8 {
            store(&db, None, format!("word{i} common").as_bytes()).await;
        }
        assert_eq!(index_for_search(&db, 2).await.unwrap(), 2);
        assert_eq!(index_for_search(&db, 2).await.unwrap(), 1);
        assert_eq!(index_for_search(&db, 2).await.unwrap(), 0);
        assert_eq!(search(&db, "common", None).await.len(), 8);
    }

    #[tokio::test]
    async fn search_syntax_in_the_query_is_taken_literally() {
        let (_dir, db) = db_with_source().await;
        store(&db, None, br#"{"a":"x OR y"}"#).await;
        for text in [
            r#"""#,
            "*",
            "NEAR(a b)",
            "a OR",
            r#"x" OR "y"#,
            "-",
            "^a",
            "a:b",
        ] {
            // None of these is an FTS5 syntax error; each is words to look for, or nothing.
            let filter = EventFilter {
                text: Some(text.into()),
                limit: 10,
                ..Default::default()
            };
            list(&db, filter).await.unwrap();
        }
        let query = |text, completions: Option<&[String]>| {
            Search::parse(text).map(|search| search.query(completions))
        };
        assert_eq!(query("  ", None), None);
        assert_eq!(query(r#"""#, None), None);
        assert_eq!(
            query(r#"say "hi""#, None).unwrap(),
            r#""say" AND """hi"""*"#
        );
        let finished = ["hi".to_owned(), "hint".to_owned()];
        assert_eq!(
            query(r#"say "hi""#, Some(&finished)).unwrap(),
            r#""say" AND ("""hi""" OR """hint""")"#
        );
    }

    #[tokio::test]
    async fn deleting_a_source_removes_its_events_from_the_search_index() {
        let (_dir, db) = db_with_source().await;
        store(&db, None, b"findable").await;
        index_for_search(&db, 10).await.unwrap();
        assert_eq!(search(&db, "findable", None).await.len(), 1);
        sources::delete(&db, "src_test").await.unwrap();
        assert!(search(&db, "findable", None).await.is_empty());
        if db.is_postgres() {
            return; // the words are kept on the event's own row
        }
        let count: Option<i64> = db
            .read()
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Sqlite,
                "SELECT count(*) AS n FROM events_fts",
            ))
            .await
            .unwrap()
            .and_then(|row| row.try_get("", "n").ok());
        assert_eq!(count, Some(0));
    }
}
