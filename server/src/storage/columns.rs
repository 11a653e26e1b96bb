//! Column types of our own: JSON kept in text columns, and how headers are written to them.

use http::{HeaderMap, HeaderName, HeaderValue};
use sea_orm::sea_query::{ArrayType, ColumnType, Nullable, ValueType, ValueTypeErr};
use sea_orm::{ColIdx, DbErr, QueryResult, TryGetError, TryGetable, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A value stored as its JSON text in a text column, and parsed back into `T` when read.
///
/// Text rather than the engine's own JSON type, so every engine keeps the same text (on
/// PostgreSQL a TEXT column binds and decodes as a string, as on SQLite). A stored text that
/// does not parse as `T` fails the read with an error naming the column: a corrupt row is an
/// error, never an empty value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JsonText<T>(pub T);

/// Headers as stored: `[name, value]` pairs in the order they came or went.
pub type HeaderPairs = Vec<(String, String)>;

impl<T: Serialize> From<JsonText<T>> for Value {
    fn from(json: JsonText<T>) -> Self {
        // Every `T` stored this way is built from strings, numbers and JSON values, whose
        // serialisation cannot fail.
        let text = serde_json::to_string(&json.0).expect("a stored JSON value serialises");
        Value::String(Some(text))
    }
}

impl<T: DeserializeOwned> TryGetable for JsonText<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, index)?;
        parse(&text).map_err(|err| {
            TryGetError::DbErr(DbErr::Type(format!(
                "column {index:?} holds JSON of the wrong shape: {err}"
            )))
        })
    }
}

impl<T: DeserializeOwned> ValueType for JsonText<T> {
    fn try_from(value: Value) -> Result<Self, ValueTypeErr> {
        match value {
            Value::String(Some(text)) => parse(&text).map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "JsonText".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::Text
    }
}

impl<T> Nullable for JsonText<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<JsonText<T>, serde_json::Error> {
    serde_json::from_str(text).map(JsonText)
}

/// `headers` as stored, each value as text.
pub fn header_pairs(headers: &HeaderMap) -> JsonText<HeaderPairs> {
    header_pairs_shown(headers, |_, value| {
        String::from_utf8_lossy(value.as_bytes()).into_owned()
    })
}

/// The same, with each value as `show` gives it (to keep a secret out of a log).
pub fn header_pairs_shown(
    headers: &HeaderMap,
    show: impl Fn(&HeaderName, &HeaderValue) -> String,
) -> JsonText<HeaderPairs> {
    JsonText(
        headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), show(name, value)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, EntityTrait, Set};
    use serde_json::json;

    use super::*;
    use crate::storage::Db;
    use crate::storage::entities::handler;

    #[tokio::test]
    async fn stored_json_reads_back_typed_and_a_corrupt_row_is_an_error() {
        let (_dir, db) = Db::open_temp().await;
        let row = handler::ActiveModel {
            id: Set("hdl_json".into()),
            source_id: Set(None),
            position: Set(0),
            kind: Set("log".into()),
            event_types: Set(JsonText(vec!["b.*".into(), "a\u{e9}".into()])),
            config: Set(JsonText(json!({"z": 1, "a": [true, null]}))),
            created_at: Set(0),
            enabled: Set(true),
        };
        db.write(move |txn| Box::pin(async move { handler::Entity::insert(row).exec(txn).await }))
            .await
            .unwrap();
        let stored = handler::Entity::find()
            .one(db.read())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.event_types,
            JsonText(vec!["b.*".into(), "a\u{e9}".into()])
        );
        assert_eq!(stored.config, JsonText(json!({"z": 1, "a": [true, null]})));

        db.write(|txn| {
            Box::pin(async move {
                txn.execute_unprepared("UPDATE handlers SET event_types = '{\"a\":1}'")
                    .await
                    .map(drop)
            })
        })
        .await
        .unwrap();
        let err = handler::Entity::find().one(db.read()).await.unwrap_err();
        assert!(err.to_string().contains("event_types"), "{err}");
    }
}
