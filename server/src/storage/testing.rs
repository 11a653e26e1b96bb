//! Fresh databases for tests and benchmarks, on the engine a run names: a SQLite file in a
//! temporary directory by default, or, with `HOOKHUB_TEST_DATABASE=postgres`, a new database
//! on the server at `HOOKHUB_TEST_POSTGRES_URL` (the test command starts one of its own).

use std::path::Path;

use sea_orm::ConnectionTrait;

use super::Location;
use crate::ids::random_id;

/// Names the engine tests run on: `sqlite` (the default) or `postgres`.
pub const ENGINE_VAR: &str = "HOOKHUB_TEST_DATABASE";
/// The PostgreSQL server tests make their databases on.
pub const SERVER_VAR: &str = "HOOKHUB_TEST_POSTGRES_URL";

/// True when this run's tests are on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var(ENGINE_VAR).is_ok_and(|engine| engine == "postgres")
}

/// A fresh, empty database on this run's engine: for SQLite, a file in `dir`.
pub async fn database(dir: &Path) -> Location {
    if on_postgres() {
        let server = std::env::var(SERVER_VAR)
            .unwrap_or_else(|_| panic!("{ENGINE_VAR}=postgres needs {SERVER_VAR}"));
        Location::Postgres(new_postgres_database(&server).await)
    } else {
        Location::Sqlite(dir.join("hookhub.db"))
    }
}

/// Makes an empty database with a random name on the server at `server` (a URL naming any
/// database the user can connect to) and answers its URL.
pub async fn new_postgres_database(server: &str) -> String {
    let conn = sea_orm::Database::connect(server)
        .await
        .expect("connecting to PostgreSQL");
    let name = random_id("hookhub_test_", 16);
    conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("creating a test database");
    conn.close().await.ok();
    with_database(server, &name)
}

/// `url` naming the database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority..].find('/') {
        Some(slash) => &base[..authority + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_url_is_pointed_at_another_database() {
        assert_eq!(
            with_database("postgres://u@h:5/postgres", "t1"),
            "postgres://u@h:5/t1"
        );
        assert_eq!(
            with_database("postgres://u@h:5?sslmode=disable", "t1"),
            "postgres://u@h:5/t1?sslmode=disable"
        );
    }
}
