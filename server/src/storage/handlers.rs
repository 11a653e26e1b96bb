//! Handlers (per source, or global when `source_id` is `None`) and the durable queue of their
//! runs. A run is queued in the same transaction as its event, claimed with a lease, and
//! finished with an outcome; a lease left by a crash lapses and the run happens again.

use std::sync::Arc;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::Db;
use super::columns::JsonText;
use super::entities::event::{self, Entity as Events};
use super::entities::handler::{self, Entity as Handlers};
use super::entities::handler_run::{self, Entity as HandlerRuns};
use super::lease::Queue;
use super::shapes::insert_all;
use super::states::{Handling, RunStatus};
use crate::ids::{HandlerId, SourceId};
pub use handler::Model as HandlerRow;
pub use handler_run::Model as HandlerRun;

#[derive(Debug, Clone)]
pub struct NewHandler {
    pub id: HandlerId,
    pub source_id: Option<SourceId>,
    pub position: i32,
    pub kind: String,
    pub event_types: Vec<String>,
    pub config: serde_json::Value,
}

pub async fn create(db: &Db, new: NewHandler) -> Result<HandlerRow, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            handler::ActiveModel {
                id: Set(new.id),
                source_id: Set(new.source_id),
                position: Set(new.position),
                kind: Set(new.kind),
                event_types: Set(JsonText(new.event_types)),
                config: Set(JsonText(new.config)),
                created_at: Set(super::now_millis()),
                enabled: Set(true),
            }
            .insert(txn)
            .await
        })
    })
    .await
}

/// What can change of a saved handler; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct HandlerChange {
    pub position: Option<i32>,
    pub event_types: Option<Vec<String>>,
    pub enabled: Option<bool>,
}

/// Changes a handler; `source_id` scopes it (`None` for a global one). The handler as it is
/// now, or `None` when there is no such handler.
pub async fn update(
    db: &Db,
    source_id: Option<String>,
    id: String,
    change: HandlerChange,
) -> Result<Option<HandlerRow>, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let Some(row) = Handlers::find_by_id(HandlerId::from(id))
                .filter(scope(source_id.as_deref()))
                .one(txn)
                .await?
            else {
                return Ok(None);
            };
            let mut active: handler::ActiveModel = row.into();
            if let Some(position) = change.position {
                active.position = Set(position);
            }
            if let Some(event_types) = change.event_types {
                active.event_types = Set(JsonText(event_types));
            }
            if let Some(enabled) = change.enabled {
                active.enabled = Set(enabled);
            }
            active.update(txn).await.map(Some)
        })
    })
    .await
}

/// Removes a handler; `source_id` scopes it (`None` for a global one). True when one was removed.
pub async fn delete(db: &Db, source_id: Option<String>, id: String) -> Result<bool, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let removed = Handlers::delete_many()
                .filter(handler::Column::Id.eq(id))
                .filter(scope(source_id.as_deref()))
                .exec(txn)
                .await?;
            Ok(removed.rows_affected > 0)
        })
    })
    .await
}

fn scope(source_id: Option<&str>) -> Condition {
    match source_id {
        Some(source_id) => Condition::all().add(handler::Column::SourceId.eq(source_id)),
        None => Condition::all().add(handler::Column::SourceId.is_null()),
    }
}

/// A source's own handlers (or the global ones for `None`), in running order.
pub async fn list(db: &Db, source_id: Option<&str>) -> Result<Vec<HandlerRow>, DbErr> {
    Handlers::find()
        .filter(scope(source_id))
        .order_by_asc(handler::Column::Position)
        .order_by_asc(handler::Column::CreatedAt)
        .all(db.read())
        .await
}

/// Every handler that runs for `source_id`: its own and the global ones, in running order.
pub async fn chain(db: &Db, source_id: &str) -> Result<Vec<HandlerRow>, DbErr> {
    Handlers::find()
        .filter(
            Condition::any()
                .add(handler::Column::SourceId.eq(source_id))
                .add(handler::Column::SourceId.is_null()),
        )
        .order_by_asc(handler::Column::Position)
        .order_by_asc(handler::Column::CreatedAt)
        .all(db.read())
        .await
}

/// A run to queue with a new event.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    pub handler_id: HandlerId,
    pub handler_kind: String,
    pub position: i32,
}

/// Queues `runs` for a just-inserted event, inside the caller's transaction.
pub(super) async fn queue<C: ConnectionTrait>(
    txn: &C,
    event_id: i64,
    runs: Vec<PlannedRun>,
    now: i64,
) -> Result<(), DbErr> {
    if runs.is_empty() {
        return Ok(());
    }
    let runs = runs.into_iter().map(|run| handler_run::ActiveModel {
        event_id: Set(event_id),
        handler_id: Set(run.handler_id),
        handler_kind: Set(run.handler_kind),
        position: Set(run.position),
        status: Set(RunStatus::Pending),
        attempts: Set(0),
        next_at: Set(now),
        leased_until: Set(None),
        outcome: Set(None),
        updated_at: Set(now),
        ..Default::default()
    });
    insert_all(txn, runs.collect()).await?;
    Events::update_many()
        .col_expr(event::Column::Handling, Expr::value(Handling::Pending))
        .filter(event::Column::Id.eq(event_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// The runs, as a queue: pending until they end, due at `next_at`.
fn run_queue() -> Queue<HandlerRuns> {
    Queue {
        id: handler_run::Column::Id,
        status: handler_run::Column::Status,
        pending: RunStatus::Pending.into(),
        due_at: handler_run::Column::NextAt,
        leased_until: handler_run::Column::LeasedUntil,
        leased_by: handler_run::Column::LeasedBy,
    }
}

/// Claims up to `limit` due runs for `lease_ms`, oldest first, counting the attempt.
pub async fn claim_due(
    db: &Db,
    node: Arc<str>,
    now: i64,
    limit: u64,
    lease_ms: i64,
) -> Result<Vec<HandlerRun>, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let mut due = run_queue().due(now, limit).all(txn).await?;
            if due.is_empty() {
                return Ok(due);
            }
            let until = now + lease_ms;
            run_queue()
                .lease(txn, due.iter().map(|run| run.id), &node, until)
                .col_expr(
                    handler_run::Column::Attempts,
                    Expr::col(handler_run::Column::Attempts).add(1),
                )
                .exec(txn)
                .await?;
            for run in &mut due {
                run.leased_until = Some(until);
                run.leased_by = Some(node.to_string());
                run.attempts += 1;
            }
            Ok(due)
        })
    })
    .await
}

/// When the hub `node` starts nothing of its own is running: the leases its crash left are
/// released at once (other hubs' leases stay with them).
pub async fn release_leases(db: &Db, node: Arc<str>) -> Result<u64, DbErr> {
    db.write(move |txn| Box::pin(async move { run_queue().release_held_by(txn, &node).await }))
        .await
}

/// How a claimed run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Ok(String),
    RetryAt { at: i64, error: String },
    Failed(String),
}

/// Records a run's end and recomputes its event's handling state, in one write.
///
/// The event's row is locked first, so runs of one event finishing at once (on several
/// workers or hubs) recompute its state one after the other, each seeing the others' ends;
/// side by side, each would count the other still pending.
pub async fn finish(db: &Db, run: HandlerRun, finish: Finish, now: i64) -> Result<(), DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let event_id = run.event_id;
            Events::find_by_id(event_id)
                .select_only()
                .column(event::Column::Id)
                .lock_exclusive()
                .into_tuple::<i64>()
                .one(txn)
                .await?;
            let mut active: handler_run::ActiveModel = run.into();
            let (status, next_at, outcome) = match finish {
                Finish::Ok(outcome) => (RunStatus::Ok, now, outcome),
                Finish::RetryAt { at, error } => (RunStatus::Pending, at, error),
                Finish::Failed(error) => (RunStatus::Failed, now, error),
            };
            active.status = Set(status);
            active.next_at = Set(next_at);
            active.leased_until = Set(None);
            active.leased_by = Set(None);
            active.outcome = Set(Some(outcome));
            active.updated_at = Set(now);
            active.update(txn).await?;

            let statuses: Vec<RunStatus> = HandlerRuns::find()
                .select_only()
                .column(handler_run::Column::Status)
                .filter(handler_run::Column::EventId.eq(event_id))
                .into_tuple()
                .all(txn)
                .await?;
            Events::update_many()
                .col_expr(
                    event::Column::Handling,
                    Expr::value(Handling::of(&statuses)),
                )
                .filter(event::Column::Id.eq(event_id))
                .exec(txn)
                .await?;
            Ok(())
        })
    })
    .await
}

/// An event's runs in the order its handlers ran.
pub async fn runs_for_event(db: &Db, event_id: i64) -> Result<Vec<HandlerRun>, DbErr> {
    HandlerRuns::find()
        .filter(handler_run::Column::EventId.eq(event_id))
        .order_by_asc(handler_run::Column::Position)
        .order_by_asc(handler_run::Column::Id)
        .all(db.read())
        .await
}

/// How a handler has been doing: its runs that gave up, and what the newest of them said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunHealth {
    pub failed: u64,
    pub last_failure: Option<String>,
}

/// The failed runs of each of `ids` (on the events of `source` only, when given), counted, with
/// the newest one's outcome.
pub async fn health(
    db: &Db,
    ids: Vec<HandlerId>,
    source: Option<&str>,
) -> Result<std::collections::HashMap<HandlerId, RunHealth>, DbErr> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let mut failed = HandlerRuns::find()
        .select_only()
        .column(handler_run::Column::HandlerId)
        .column_as(handler_run::Column::Id.count(), "failed")
        .column_as(handler_run::Column::Id.max(), "newest")
        .filter(handler_run::Column::Status.eq(RunStatus::Failed))
        .filter(handler_run::Column::HandlerId.is_in(ids));
    if let Some(source) = source {
        let events = Query::select()
            .column(event::Column::Id)
            .from(Events)
            .and_where(event::Column::SourceId.eq(source))
            .to_owned();
        failed = failed.filter(handler_run::Column::EventId.in_subquery(events));
    }
    let failed: Vec<(HandlerId, i64, i64)> = failed
        .group_by(handler_run::Column::HandlerId)
        .into_tuple()
        .all(db.read())
        .await?;
    let newest: Vec<i64> = failed.iter().map(|(_, _, newest)| *newest).collect();
    let outcomes: std::collections::HashMap<i64, Option<String>> = HandlerRuns::find()
        .select_only()
        .column(handler_run::Column::Id)
        .column(handler_run::Column::Outcome)
        .filter(handler_run::Column::Id.is_in(newest))
        .into_tuple::<(i64, Option<String>)>()
        .all(db.read())
        .await?
        .into_iter()
        .collect();
    Ok(failed
        .into_iter()
        .map(|(id, count, newest)| {
            let health = RunHealth {
                failed: u64::try_from(count).unwrap_or(0),
                last_failure: outcomes.get(&newest).cloned().flatten(),
            };
            (id, health)
        })
        .collect())
}

/// Which failed runs to try again: one event's, or those of every event of one source.
#[derive(Debug, Clone)]
pub enum RetryScope {
    Event(i64),
    Source(SourceId),
}

/// Queues the failed runs in `scope` again, due now with a fresh count of attempts, and marks
/// their events pending again, in one write; answers how many runs.
pub async fn retry_failed(db: &Db, scope: RetryScope, now: i64) -> Result<u64, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let events = match &scope {
                RetryScope::Event(id) => Condition::all().add(event::Column::Id.eq(*id)),
                RetryScope::Source(source) => Condition::all()
                    .add(event::Column::SourceId.eq(source.clone()))
                    .add(event::Column::Handling.eq(Handling::Failed)),
            };
            let event_ids: Vec<i64> = Events::find()
                .select_only()
                .column(event::Column::Id)
                .filter(events)
                .into_tuple()
                .all(txn)
                .await?;
            if event_ids.is_empty() {
                return Ok(0);
            }
            let mut queued = 0;
            // In slices, so no statement carries more ids than the engines allow.
            for ids in event_ids.chunks(500) {
                queued += HandlerRuns::update_many()
                    .col_expr(handler_run::Column::Status, Expr::value(RunStatus::Pending))
                    .col_expr(handler_run::Column::NextAt, Expr::value(now))
                    .col_expr(handler_run::Column::Attempts, Expr::value(0))
                    .col_expr(handler_run::Column::UpdatedAt, Expr::value(now))
                    .filter(handler_run::Column::EventId.is_in(ids.to_vec()))
                    .filter(handler_run::Column::Status.eq(RunStatus::Failed))
                    .exec(txn)
                    .await?
                    .rows_affected;
                Events::update_many()
                    .col_expr(event::Column::Handling, Expr::value(Handling::Pending))
                    .filter(event::Column::Id.is_in(ids.to_vec()))
                    .filter(event::Column::Handling.eq(Handling::Failed))
                    .exec(txn)
                    .await?;
            }
            Ok(queued)
        })
    })
    .await
}
