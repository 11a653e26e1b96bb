//! Consumers (who messages are addressed to) and their portal's tokens: a sign-in link used
//! once, and the session it starts. A token is stored as its hash, with the consumer's portal
//! key at the time: a new key ends every link and session issued before it.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use serde_json::{Map, Value};

use super::columns::JsonText;
use super::entities::consumer::{self, Entity as Consumers};
use super::entities::portal_token::{self, Entity as PortalTokens};
use super::entities::subscription::{self, Entity as Subscriptions};
use super::{Db, insert_new, now_millis};
pub use consumer::Model as Consumer;

#[derive(Debug, Clone)]
pub struct NewConsumer {
    pub id: String,
    pub name: String,
    pub metadata: Map<String, Value>,
    pub portal_key: String,
}

/// What a portal token opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Signs in once.
    Link,
    /// A signed-in portal session.
    Session,
}

impl TokenKind {
    fn word(self) -> &'static str {
        match self {
            Self::Link => "link",
            Self::Session => "session",
        }
    }
}

/// Creates the consumer; `Ok(false)` when the id is taken.
pub async fn create(db: &Db, new: NewConsumer) -> Result<bool, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let now = now_millis();
            let row = consumer::ActiveModel {
                id: Set(new.id),
                name: Set(new.name),
                metadata: Set(JsonText(new.metadata)),
                portal_key: Set(new.portal_key),
                created_at: Set(now),
                updated_at: Set(now),
            };
            Ok(insert_new(txn, row, [consumer::Column::Id])
                .await?
                .is_some())
        })
    })
    .await
}

pub async fn find(db: &Db, id: &str) -> Result<Option<Consumer>, DbErr> {
    Consumers::find_by_id(id).one(db.read()).await
}

pub async fn list(db: &Db) -> Result<Vec<Consumer>, DbErr> {
    Consumers::find()
        .order_by_asc(consumer::Column::Id)
        .all(db.read())
        .await
}

/// Renames the consumer and replaces its metadata; `Ok(None)` when there is none.
pub async fn update(
    db: &Db,
    id: String,
    name: String,
    metadata: Map<String, Value>,
) -> Result<Option<Consumer>, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let Some(found) = Consumers::find_by_id(id).one(txn).await? else {
                return Ok(None);
            };
            let mut active: consumer::ActiveModel = found.into();
            active.name = Set(name);
            active.metadata = Set(JsonText(metadata));
            active.updated_at = Set(now_millis());
            active.update(txn).await.map(Some)
        })
    })
    .await
}

/// Deletes the consumer with its subscriptions (and their deliveries) and portal tokens. True
/// when it existed.
pub async fn delete(db: &Db, id: String) -> Result<bool, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            Subscriptions::delete_many()
                .filter(subscription::Column::ConsumerId.eq(id.as_str()))
                .exec(txn)
                .await?;
            let deleted = Consumers::delete_by_id(id).exec(txn).await?;
            Ok(deleted.rows_affected > 0)
        })
    })
    .await
}

/// Gives the consumer a new portal key, ending every link and session issued under the old
/// one. True when it existed.
pub async fn set_portal_key(db: &Db, id: String, key: String) -> Result<bool, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let Some(found) = Consumers::find_by_id(id.as_str()).one(txn).await? else {
                return Ok(false);
            };
            PortalTokens::delete_many()
                .filter(portal_token::Column::ConsumerId.eq(id.as_str()))
                .exec(txn)
                .await?;
            let mut active: consumer::ActiveModel = found.into();
            active.portal_key = Set(key);
            active.updated_at = Set(now_millis());
            active.update(txn).await?;
            Ok(true)
        })
    })
    .await
}

/// Stores a token of `kind` for the consumer under its current key, valid until `expires_at`;
/// expired tokens of any consumer are swept out in the same write. False when there is no such
/// consumer.
pub async fn issue_token(
    db: &Db,
    consumer_id: String,
    token_hash: String,
    kind: TokenKind,
    expires_at: i64,
) -> Result<bool, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let now = now_millis();
            PortalTokens::delete_many()
                .filter(portal_token::Column::ExpiresAt.lte(now))
                .exec(txn)
                .await?;
            let Some(found) = Consumers::find_by_id(consumer_id).one(txn).await? else {
                return Ok(false);
            };
            portal_token::ActiveModel {
                token_hash: Set(token_hash),
                consumer_id: Set(found.id),
                portal_key: Set(found.portal_key),
                kind: Set(kind.word().to_owned()),
                expires_at: Set(expires_at),
                created_at: Set(now),
            }
            .insert(txn)
            .await?;
            Ok(true)
        })
    })
    .await
}

/// Uses a sign-in link: deletes it, so it works once, even when several hubs are asked at
/// once, and answers its consumer if it was unexpired and issued under their current key.
pub async fn redeem_link(db: &Db, token_hash: String) -> Result<Option<Consumer>, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let Some(link) = PortalTokens::find_by_id(token_hash.as_str())
                .filter(portal_token::Column::Kind.eq(TokenKind::Link.word()))
                .one(txn)
                .await?
            else {
                return Ok(None);
            };
            let deleted = PortalTokens::delete_by_id(token_hash).exec(txn).await?;
            if deleted.rows_affected == 0 || link.expires_at <= now_millis() {
                return Ok(None);
            }
            let consumer = Consumers::find_by_id(link.consumer_id).one(txn).await?;
            Ok(consumer.filter(|c| c.portal_key == link.portal_key))
        })
    })
    .await
}

/// The consumer a portal session speaks for, while it is unexpired and their key unchanged.
pub async fn session_consumer(db: &Db, token_hash: &str) -> Result<Option<Consumer>, DbErr> {
    let Some(session) = PortalTokens::find_by_id(token_hash)
        .filter(portal_token::Column::Kind.eq(TokenKind::Session.word()))
        .filter(portal_token::Column::ExpiresAt.gt(now_millis()))
        .one(db.read())
        .await?
    else {
        return Ok(None);
    };
    let consumer = find(db, &session.consumer_id).await?;
    Ok(consumer.filter(|c| c.portal_key == session.portal_key))
}

/// Ends one portal session.
pub async fn end_session(db: &Db, token_hash: String) -> Result<(), DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            PortalTokens::delete_by_id(token_hash).exec(txn).await?;
            Ok(())
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme(key: &str) -> NewConsumer {
        NewConsumer {
            id: "acme".into(),
            name: "Acme".into(),
            metadata: Map::new(),
            portal_key: key.into(),
        }
    }

    #[tokio::test]
    async fn a_link_signs_in_once_and_a_new_key_ends_links_and_sessions() {
        let (_dir, db) = Db::open_temp().await;
        assert!(create(&db, acme("k1")).await.unwrap());
        assert!(!create(&db, acme("k2")).await.unwrap(), "the id is taken");
        let later = now_millis() + 60_000;
        for hash in ["l1", "l2"] {
            assert!(
                issue_token(&db, "acme".into(), hash.into(), TokenKind::Link, later)
                    .await
                    .unwrap()
            );
        }
        let used = redeem_link(&db, "l1".into()).await.unwrap();
        assert_eq!(used.map(|c| c.id).as_deref(), Some("acme"));
        assert!(redeem_link(&db, "l1".into()).await.unwrap().is_none());

        issue_token(&db, "acme".into(), "s1".into(), TokenKind::Session, later)
            .await
            .unwrap();
        assert!(session_consumer(&db, "s1").await.unwrap().is_some());
        assert!(
            session_consumer(&db, "l2").await.unwrap().is_none(),
            "a link is not a session"
        );
        assert!(
            redeem_link(&db, "s1".into()).await.unwrap().is_none(),
            "a session is not a link"
        );
        assert!(
            set_portal_key(&db, "acme".into(), "k2".into())
                .await
                .unwrap()
        );
        assert!(session_consumer(&db, "s1").await.unwrap().is_none());
        assert!(redeem_link(&db, "l2".into()).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_expired_link_does_not_sign_in() {
        let (_dir, db) = Db::open_temp().await;
        create(&db, acme("k1")).await.unwrap();
        let past = now_millis() - 1;
        issue_token(&db, "acme".into(), "old".into(), TokenKind::Link, past)
            .await
            .unwrap();
        assert!(redeem_link(&db, "old".into()).await.unwrap().is_none());
        assert!(
            !issue_token(&db, "nobody".into(), "x".into(), TokenKind::Link, past)
                .await
                .unwrap()
        );
    }
}
