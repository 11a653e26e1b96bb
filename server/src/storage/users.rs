//! Dashboard users.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use super::entities::user::{self, Entity as Users};
use super::{Db, now_millis};
pub use user::Model as User;

#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("that username is taken")]
    Taken,
    #[error("hookhub is already set up")]
    AlreadySetUp,
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

pub async fn count(db: &Db) -> Result<u64, sea_orm::DbErr> {
    Users::find().count(db.read()).await
}

pub async fn list(db: &Db) -> Result<Vec<User>, sea_orm::DbErr> {
    Users::find()
        .order_by_asc(user::Column::Username)
        .all(db.read())
        .await
}

pub async fn find(db: &Db, id: i64) -> Result<Option<User>, sea_orm::DbErr> {
    Users::find_by_id(id).one(db.read()).await
}

pub async fn find_by_username(db: &Db, username: &str) -> Result<Option<User>, sea_orm::DbErr> {
    Users::find()
        .filter(user::Column::Username.eq(username))
        .one(db.read())
        .await
}

/// Adds a user. With `only_if_none`, refuses when any user exists (first-run setup), checked
/// inside the same write so two concurrent setups cannot both succeed.
pub async fn create(
    db: &Db,
    username: String,
    password_hash: String,
    is_admin: bool,
    only_if_none: bool,
) -> Result<User, CreateUserError> {
    db.writer()
        .write(move |txn| {
            Box::pin(async move {
                if only_if_none && Users::find().count(txn).await? > 0 {
                    return Ok(Err(CreateUserError::AlreadySetUp));
                }
                let row = user::ActiveModel {
                    username: Set(username),
                    password_hash: Set(password_hash),
                    is_admin: Set(is_admin),
                    created_at: Set(now_millis()),
                    ..Default::default()
                };
                let Some(id) = super::insert_new(txn, row, [user::Column::Username]).await? else {
                    return Ok(Err(CreateUserError::Taken));
                };
                let user = Users::find_by_id(id)
                    .one(txn)
                    .await?
                    .ok_or_else(|| sea_orm::DbErr::RecordNotFound("the user just added".into()))?;
                Ok(Ok(user))
            })
        })
        .await?
}

pub async fn set_password_hash(db: &Db, id: i64, hash: String) -> Result<(), sea_orm::DbErr> {
    db.writer()
        .write(move |txn| {
            Box::pin(async move {
                Users::update_many()
                    .col_expr(user::Column::PasswordHash, hash.into())
                    .filter(user::Column::Id.eq(id))
                    .exec(txn)
                    .await
                    .map(|_| ())
            })
        })
        .await
}

/// What became of a removal.
#[derive(Debug, PartialEq, Eq)]
pub enum Removal {
    Removed,
    NoSuchUser,
    /// The acting user is no longer an admin (another admin removed them meanwhile).
    NotAnAdmin,
}

/// Deletes user `id` on behalf of `acting_id`, checked inside the same write so that two admins
/// removing each other at once cannot both succeed and leave no admin.
pub async fn delete(db: &Db, acting_id: i64, id: i64) -> Result<Removal, sea_orm::DbErr> {
    db.writer()
        .write(move |txn| {
            Box::pin(async move {
                let acting = Users::find_by_id(acting_id).one(txn).await?;
                if !acting.is_some_and(|user| user.is_admin) {
                    return Ok(Removal::NotAnAdmin);
                }
                let deleted = Users::delete_by_id(id).exec(txn).await?;
                Ok(if deleted.rows_affected > 0 {
                    Removal::Removed
                } else {
                    Removal::NoSuchUser
                })
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_admin_removed_meanwhile_cannot_remove_the_other() {
        let (_dir, db) = Db::open_temp().await;
        let add = |name: &str| create(&db, name.into(), "x".into(), true, false);
        let (ann, bob) = (add("ann").await.unwrap(), add("bob").await.unwrap());

        // Both passed their checks as admins; Ann's removal lands first.
        assert_eq!(delete(&db, ann.id, bob.id).await.unwrap(), Removal::Removed);
        assert_eq!(
            delete(&db, bob.id, ann.id).await.unwrap(),
            Removal::NotAnAdmin
        );
        assert_eq!(list(&db).await.unwrap(), vec![ann.clone()]);
        assert_eq!(
            delete(&db, ann.id, bob.id).await.unwrap(),
            Removal::NoSuchUser
        );
    }
}
