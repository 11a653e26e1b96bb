//! Statements of a fixed shape for any number of values.
//!
//! sqlx prepares each distinct SQL text once per connection and keeps up to 100 of them. An
//! IN-list or a multi-row insert has a text of its own for every length, so batches of varying
//! size fill those caches with large statements (a 200-row insert is about 180 KiB of compiled
//! program), memory that grows with the variety of batch sizes a long run sees. With these
//! helpers a query has one text, and an insert at most seven.

use sea_orm::sea_query::{Expr, ExprTrait, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ColumnType, ConnectionTrait, DbBackend, DbErr, EntityTrait,
};

/// The longest run of rows one insert statement takes.
const MAX_RUN: usize = 64;

/// `column IN (values)` as one SQL text whatever the number of values: they are bound as a
/// single JSON array and read back as rows, with SQLite's `json_each` or PostgreSQL's
/// `json_array_elements_text` (cast to the column's type), whichever `db` runs on.
pub fn one_of<C, V>(
    db: &impl ConnectionTrait,
    column: C,
    values: impl IntoIterator<Item = V>,
) -> Expr
where
    C: ColumnTrait,
    V: Into<serde_json::Value>,
{
    let list = serde_json::Value::Array(values.into_iter().map(Into::into).collect()).to_string();
    let rows = match db.get_database_backend() {
        DbBackend::Postgres => {
            let elements =
                Func::cust("json_array_elements_text").arg(Expr::val(list).cast_as("json"));
            let value = Expr::col("value");
            let value = match column.def().get_column_type() {
                ColumnType::Integer | ColumnType::BigInteger | ColumnType::SmallInteger => {
                    value.cast_as("bigint")
                }
                _ => value,
            };
            Query::select()
                .expr(value)
                .from_function(elements, "list")
                .to_owned()
        }
        _ => Query::select()
            .column("value")
            .from_function(Func::cust("json_each").arg(list), "list")
            .to_owned(),
    };
    column.in_subquery(rows)
}

/// Inserts `rows` in runs of 64, 32, 16, … 1 rows, so at most seven statement texts exist per
/// table whatever the batch sizes.
pub async fn insert_all<A, C>(db: &C, rows: Vec<A>) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
    C: ConnectionTrait,
{
    for run in runs(rows) {
        A::Entity::insert_many(run).exec(db).await?;
    }
    Ok(())
}

/// `rows` split into runs whose lengths are powers of two, at most [`MAX_RUN`], longest first.
fn runs<T>(rows: Vec<T>) -> Vec<Vec<T>> {
    let mut left = rows.len();
    let mut rows = rows.into_iter();
    let mut runs = Vec::new();
    while left > 0 {
        let len = MAX_RUN.min(1 << left.ilog2());
        runs.push(rows.by_ref().take(len).collect());
        left -= len;
    }
    runs
}

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter, QueryTrait, Set};

    use super::*;
    use crate::storage::Db;
    use crate::storage::entities::user::{self, Entity as Users};

    #[test]
    fn runs_are_powers_of_two_up_to_64_covering_every_row_in_order() {
        for len in 0..=300 {
            let runs = runs((0..len).collect::<Vec<_>>());
            assert_eq!(runs.concat(), (0..len).collect::<Vec<_>>());
            for run in &runs {
                assert!(
                    run.len().is_power_of_two() && run.len() <= MAX_RUN,
                    "{len}: {runs:?}"
                );
            }
        }
        assert_eq!(
            runs((0..200).collect())
                .iter()
                .map(Vec::len)
                .collect::<Vec<_>>(),
            [64, 64, 64, 8]
        );
    }

    #[tokio::test]
    async fn one_of_renders_the_same_text_for_any_number_of_values() {
        let (_dir, db) = Db::open_temp().await;
        let sql = |ids: Vec<i64>| {
            Users::find()
                .filter(one_of(db.read(), user::Column::Id, ids))
                .build(db.read().get_database_backend())
                .sql
        };
        assert_eq!(sql(vec![1]), sql((0..500).collect()));
    }

    #[tokio::test]
    async fn one_of_and_insert_all_find_and_write_exactly_the_rows_given() {
        let (_dir, db) = Db::open_temp().await;
        let rows = (0..100)
            .map(|i| user::ActiveModel {
                username: Set(format!("u{i}")),
                password_hash: Set("x".into()),
                is_admin: Set(false),
                created_at: Set(i),
                ..Default::default()
            })
            .collect::<Vec<_>>();
        db.write(move |txn| Box::pin(insert_all(txn, rows)))
            .await
            .unwrap();
        let names =
            |found: Vec<user::Model>| found.into_iter().map(|u| u.username).collect::<Vec<_>>();

        let by_name = Users::find()
            .filter(one_of(
                db.read(),
                user::Column::Username,
                ["u3", "u97", "nobody", "u3"],
            ))
            .all(db.read())
            .await
            .unwrap();
        assert_eq!(names(by_name), ["u3", "u97"]);
        let none = Users::find()
            .filter(one_of(db.read(), user::Column::Id, Vec::<i64>::new()))
            .all(db.read())
            .await
            .unwrap();
        assert!(none.is_empty());
        let count = Users::find().count(db.read()).await.unwrap();
        assert_eq!(count, 100);
    }
}
