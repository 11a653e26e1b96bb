//! Which hub runs a periodic job when several share one database: the one holding the job's
//! lead. A pass first takes or renews the lead in one write; a hub that finds another live
//! hub's lead skips the pass, and takes the lead over once it lapses (its holder stopped).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter};
use tokio_util::sync::CancellationToken;

use super::entities::lead::{self, Entity as Leads};
use super::{Db, insert_new, now_millis};

/// Takes or renews the lead of `job` for the hub `node` until `now + hold`: true when `node`
/// holds it now. It is taken when no hub holds it, renewed when `node` already does, and
/// refused while another hub's lead has not lapsed. The taking is one conditional write, so
/// of hubs trying at once exactly one gets a free or lapsed lead.
pub async fn hold(
    db: &Db,
    job: &'static str,
    node: Arc<str>,
    hold: Duration,
) -> Result<bool, DbErr> {
    let now = now_millis();
    let until = now.saturating_add(hold.as_millis() as i64);
    db.write(move |txn| {
        Box::pin(async move {
            let row = lead::ActiveModel {
                job: Set(job.to_owned()),
                held_by: Set(node.to_string()),
                until: Set(until),
            };
            if insert_new(txn, row, [lead::Column::Job]).await?.is_some() {
                return Ok(true);
            }
            let taken = Leads::update_many()
                .col_expr(lead::Column::HeldBy, Expr::value(node.to_string()))
                .col_expr(lead::Column::Until, Expr::value(until))
                .filter(lead::Column::Job.eq(job))
                .filter(
                    Condition::any()
                        .add(lead::Column::HeldBy.eq(&*node))
                        .add(lead::Column::Until.lt(now)),
                )
                .exec(txn)
                .await?;
            Ok(taken.rows_affected == 1)
        })
    })
    .await
}

/// Runs `pass` of `job` now and every `every` until `shutdown`, on one hub at a time: each
/// pass runs only where [`held`] says `node` holds the lead.
pub async fn periodically<F, Fut>(
    db: &Db,
    job: &'static str,
    node: Arc<str>,
    every: Duration,
    shutdown: CancellationToken,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        if held(db, job, &node, every).await {
            pass().await;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Whether this pass of `job`, run every `every`, is `node`'s to run: [`hold`] for one and a
/// half periods, so the lead outlives the wait for the holder's next pass and lapses soon
/// after the holder stops. A failure to find out is logged and skips the pass.
async fn held(db: &Db, job: &'static str, node: &Arc<str>, every: Duration) -> bool {
    match hold(db, job, Arc::clone(node), every * 3 / 2).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::debug!(job, "another hub holds this job's lead");
            false
        }
        Err(err) => {
            tracing::error!(job, error = %err, "taking a job's lead failed; skipping this pass");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_hub_at_a_time_holds_a_lead_and_another_takes_it_once_it_lapses() {
        let (_dir, db) = Db::open_temp().await;
        let (a, b): (Arc<str>, Arc<str>) = ("hub-a".into(), "hub-b".into());
        let hour = Duration::from_secs(3600);
        assert!(hold(&db, "retention", Arc::clone(&a), hour).await.unwrap());
        assert!(!hold(&db, "retention", Arc::clone(&b), hour).await.unwrap());
        // Renewed by its holder; other jobs are led apart.
        assert!(hold(&db, "retention", Arc::clone(&a), hour).await.unwrap());
        assert!(hold(&db, "sessions", Arc::clone(&b), hour).await.unwrap());

        // A stops renewing: once its lead lapses, B takes it, and then A is refused.
        assert!(
            hold(&db, "retention", Arc::clone(&a), Duration::ZERO)
                .await
                .unwrap()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(hold(&db, "retention", Arc::clone(&b), hour).await.unwrap());
        assert!(!hold(&db, "retention", Arc::clone(&a), hour).await.unwrap());
    }

    #[tokio::test]
    async fn of_hubs_taking_a_free_lead_at_once_exactly_one_gets_it() {
        let (_dir, db) = Db::open_temp().await;
        let tries = (0..8).map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                hold(
                    &db,
                    "retention",
                    format!("hub-{i}").into(),
                    Duration::from_secs(60),
                )
                .await
            })
        });
        let mut holders = 0;
        for attempt in tries {
            holders += usize::from(attempt.await.unwrap().unwrap());
        }
        assert_eq!(holders, 1);
    }
}
