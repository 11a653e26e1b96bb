//! Dashboard users.

use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::milestone;
use super::entities::user::{self, Entity as Users};
use super::{Db, insert_new, now_millis};

/// The milestone the first-run setup records.
const SET_UP: &str = "set_up";
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

/// Adds a user. With `only_if_none` it is the first-run setup, refused once the hub was set up.
///
/// Invariant: only one first-run setup ever succeeds, and none once any user was added. It
/// does not rest on writes running one at a time: every user is added in the same transaction
/// as an attempt to record the `set_up` milestone, which a setup must be the one to record; of
/// two at once the second waits on the first's unique key, then finds it taken.
pub async fn create(
    db: &Db,
    username: String,
    password_hash: String,
    is_admin: bool,
    only_if_none: bool,
) -> Result<User, CreateUserError> {
    db.write(move |txn| {
        Box::pin(async move {
            // Every first user sets the hub up, however it was added (the command line's
            // first user too), so a later first-run setup is refused.
            let milestone = milestone::ActiveModel {
                name: Set(SET_UP.to_owned()),
                reached_at: Set(now_millis()),
            };
            let first = insert_new(txn, milestone, [milestone::Column::Name])
                .await?
                .is_some();
            if only_if_none && !first {
                return Ok(Err(CreateUserError::AlreadySetUp));
            }
            let row = user::ActiveModel {
                username: Set(username),
                password_hash: Set(password_hash),
                is_admin: Set(is_admin),
                created_at: Set(now_millis()),
                ..Default::default()
            };
            let Some(id) = insert_new(txn, row, [user::Column::Username]).await? else {
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
    db.write(move |txn| {
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

/// Deletes user `id` on behalf of `acting_id`.
///
/// Invariant: two admins removing each other at once leave one. It does not rest on writes
/// running one at a time: both users' rows are locked, in id order, before the acting user is
/// checked, so the second removal waits for the first and then finds its admin gone. (SQLite
/// has no row locks; its one writer runs the two one after the other.)
pub async fn delete(db: &Db, acting_id: i64, id: i64) -> Result<Removal, sea_orm::DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let both = Users::find()
                .filter(user::Column::Id.is_in([acting_id, id]))
                .order_by_asc(user::Column::Id)
                .lock_exclusive()
                .all(txn)
                .await?;
            if !both
                .iter()
                .any(|user| user.id == acting_id && user.is_admin)
            {
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
    async fn of_many_setups_at_once_exactly_one_succeeds_and_none_after_it() {
        let (_dir, db) = Db::open_temp().await;
        let setups = (0..8).map(|n| create(&db, format!("admin{n}"), "x".into(), true, true));
        let results = futures::future::join_all(setups).await;
        let succeeded = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(succeeded, 1, "{results:?}");
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| matches!(e, CreateUserError::AlreadySetUp))
        );
        assert_eq!(count(&db).await.unwrap(), 1);

        // Set up once is set up for good, whoever is removed later.
        let later = create(&db, "late".into(), "x".into(), true, true).await;
        assert!(matches!(later, Err(CreateUserError::AlreadySetUp)));
    }

    #[tokio::test]
    async fn a_first_user_from_the_command_line_closes_the_setup() {
        let (_dir, db) = Db::open_temp().await;
        create(&db, "ops".into(), "x".into(), true, false)
            .await
            .unwrap();
        let setup = create(&db, "intruder".into(), "x".into(), true, true).await;
        assert!(matches!(setup, Err(CreateUserError::AlreadySetUp)));
        assert_eq!(count(&db).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_hub_set_up_before_milestones_existed_stays_set_up() {
        use migrations::{Migrator, MigratorTrait};
        use sea_orm::ActiveModelTrait;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let old = sea_orm::Database::connect(&url).await.unwrap();
        let before_milestones = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m20261203_000009_milestones")
            .unwrap() as u32;
        Migrator::up(&old, Some(before_milestones)).await.unwrap();
        user::ActiveModel {
            username: Set("admin".into()),
            password_hash: Set("x".into()),
            is_admin: Set(true),
            created_at: Set(now_millis()),
            ..Default::default()
        }
        .insert(&old)
        .await
        .unwrap();
        old.close().await.unwrap();

        let db = Db::open(&path).await.unwrap();
        let setup = create(&db, "intruder".into(), "x".into(), true, true).await;
        assert!(matches!(setup, Err(CreateUserError::AlreadySetUp)));
    }

    #[tokio::test]
    async fn two_admins_removing_each_other_at_once_leave_one() {
        let (_dir, db) = Db::open_temp().await;
        for round in 0..10 {
            let add = |name: String| create(&db, name, "x".into(), true, false);
            let ann = add(format!("ann{round}")).await.unwrap();
            let bob = add(format!("bob{round}")).await.unwrap();
            let (a, b) = tokio::join!(delete(&db, ann.id, bob.id), delete(&db, bob.id, ann.id));
            let mut outcomes = [a.unwrap(), b.unwrap()];
            outcomes.sort_by_key(|o| format!("{o:?}"));
            assert_eq!(outcomes, [Removal::NotAnAdmin, Removal::Removed]);
            let left = list(&db).await.unwrap();
            assert_eq!(
                left.iter()
                    .filter(|u| [ann.id, bob.id].contains(&u.id))
                    .count(),
                1
            );
        }
    }

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
