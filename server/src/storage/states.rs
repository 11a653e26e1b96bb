//! The states and modes stored as text, as enums. Each variant is stored as the word it always
//! was, so no data changed; a word no variant has fails to load, as a corrupt row should.

use sea_orm::entity::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

/// Whether a subscription is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionState {
    #[sea_orm(string_value = "active")]
    Active,
    /// Paused by a person; deliveries wait.
    #[sea_orm(string_value = "paused")]
    Paused,
    /// Disabled by the hub after failing for too long, or a 410 Gone; deliveries fail.
    #[sea_orm(string_value = "disabled")]
    Disabled,
}

/// How a subscription's deliveries are shaped and signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "lowercase")]
pub enum SigningMode {
    /// Standard Webhooks: the payload as the body, `webhook-*` headers.
    #[sea_orm(string_value = "standard")]
    Standard,
    /// ASP.NET WebHooks: the notifications envelope, `ms-signature`.
    #[sea_orm(string_value = "aspnet")]
    AspNet,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// Where one queued handler run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "ok")]
    Ok,
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// What became of an event's handler runs, all told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "Text")]
#[serde(rename_all = "lowercase")]
pub enum Handling {
    /// No handler queued a run.
    #[sea_orm(string_value = "none")]
    None,
    /// Some run is still to happen (or to happen again).
    #[sea_orm(string_value = "pending")]
    Pending,
    #[sea_orm(string_value = "ok")]
    Ok,
    /// Some run failed for good.
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl Handling {
    /// The event's handling, from the statuses of its runs.
    pub fn of(runs: &[RunStatus]) -> Self {
        if runs.contains(&RunStatus::Failed) {
            Self::Failed
        } else if runs.iter().all(|s| *s == RunStatus::Ok) {
            Self::Ok
        } else {
            Self::Pending
        }
    }
}

/// The word a state is stored and shown as.
pub fn word<T: ActiveEnum<Value = String>>(state: T) -> String {
    state.to_value()
}

/// The state a word names, or `None`.
pub fn parse<T: ActiveEnum<Value = String>>(word: &str) -> Option<T> {
    T::try_from_value(&word.to_owned()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_keep_the_words_they_were_stored_as() {
        assert_eq!(word(SubscriptionState::Disabled), "disabled");
        assert_eq!(word(SigningMode::AspNet), "aspnet");
        assert_eq!(word(DeliveryStatus::Succeeded), "succeeded");
        assert_eq!(parse("paused"), Some(SubscriptionState::Paused));
        assert_eq!(parse::<DeliveryStatus>("done"), None);
        assert_eq!(
            serde_json::to_value(SigningMode::AspNet).unwrap(),
            serde_json::json!("aspnet")
        );
    }

    #[test]
    fn an_event_is_handled_once_every_run_is_ok_and_failed_once_one_failed() {
        use RunStatus::{Failed, Ok, Pending};
        assert_eq!(Handling::of(&[Ok, Ok]), Handling::Ok);
        assert_eq!(Handling::of(&[Ok, Pending]), Handling::Pending);
        assert_eq!(Handling::of(&[Pending, Failed, Ok]), Handling::Failed);
    }

    #[tokio::test]
    async fn a_word_no_state_has_is_an_error_when_read() {
        use crate::storage::entities::subscription::{self, Entity as Subscriptions};
        use crate::storage::subscriptions as stored;
        use sea_orm::sea_query::Expr;

        let (_dir, db) = crate::storage::Db::open_temp().await;
        stored::create(&db, stored::sample("sub_1".into()))
            .await
            .unwrap();
        assert!(stored::find(&db, "sub_1").await.unwrap().is_some());
        db.write(|txn| {
            Box::pin(async move {
                Subscriptions::update_many()
                    .col_expr(subscription::Column::State, Expr::value("retired"))
                    .exec(txn)
                    .await
                    .map(|_| ())
            })
        })
        .await
        .unwrap();
        assert!(stored::find(&db, "sub_1").await.is_err());
    }
}
