//! Full-text search over received bodies, kept up to date in the background, and everything
//! that knows how each engine searches:
//! - SQLite: FTS5 (the `events_fts` table and its word list, made by the migrations);
//! - PostgreSQL: a `tsvector` column on `events` with a GIN index. The words are split here,
//!   the way FTS5 splits them, and handed over as a `tsvector` literal, so both engines find
//!   the same events for the same search and no body, however odd its bytes, fails to index.

use std::ops::Range;
use std::sync::Arc;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType};
use sea_orm::{ConnectionTrait, DbErr, QueryTrait, Select};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::Db;
use super::entities::event::{self, Entity as Events};
use super::paging::Cursor;

/// Narrows `query` to the events whose body matches `text`, ordered and bounded as `cursor`
/// says; false, leaving it as it was, when `text` holds nothing to search for.
///
/// The index drives the search, newest first, so a common word stops after one page instead
/// of collecting every match.
pub(super) async fn narrow(
    db: &Db,
    query: &mut Select<Events>,
    text: &str,
    cursor: Cursor,
) -> Result<bool, DbErr> {
    let Some(search) = Search::parse(text) else {
        return Ok(false);
    };
    if db.is_postgres() {
        let select = QueryTrait::query(query);
        select.and_where(Expr::cust_with_values(
            "events.words @@ CAST($1 AS tsquery)",
            [search.tsquery()],
        ));
        cursor.bound(select, Expr::col((Events, event::Column::Id)));
        return Ok(true);
    }
    let completions = match search.prefix() {
        Some(prefix) => completions(db, &prefix).await?,
        None => None,
    };
    let fts = search.query(completions.as_deref());
    let fts_table = Alias::new("events_fts");
    let rowid = Expr::col((fts_table.clone(), Alias::new("rowid")));
    let select = QueryTrait::query(query);
    select
        .join(
            JoinType::InnerJoin,
            fts_table,
            rowid.clone().equals((Events, event::Column::Id)),
        )
        .and_where(Expr::cust_with_values("events_fts MATCH ?", [fts]));
    cursor.bound(select, rowid);
    Ok(true)
}

/// Indexes up to `batch` events not yet in the search index, oldest first, in one write; the
/// number indexed. Searches see an event once this has run after its insert.
pub async fn index_for_search(db: &Db, batch: u64) -> Result<u64, DbErr> {
    if db.is_postgres() {
        return index_on_postgres(db, batch).await;
    }
    db.write(move |txn| {
        Box::pin(async move {
            let backend = txn.get_database_backend();
            let statement = |sql: &str, values: Vec<sea_orm::Value>| {
                sea_orm::Statement::from_sql_and_values(backend, sql, values)
            };
            let last: i64 = txn
                .query_one_raw(statement(
                    "SELECT last_event_id FROM search_progress WHERE id = 1",
                    vec![],
                ))
                .await?
                .map(|row| row.try_get("", "last_event_id"))
                .transpose()?
                .unwrap_or(0);
            let newest: Option<i64> = txn
                .query_one_raw(statement(
                    "SELECT max(id) AS newest FROM \
                           (SELECT id FROM events WHERE id > ? ORDER BY id LIMIT ?)",
                    vec![last.into(), (batch as i64).into()],
                ))
                .await?
                .and_then(|row| row.try_get("", "newest").ok());
            let Some(newest) = newest else {
                return Ok(0);
            };
            let indexed = txn
                .execute_raw(statement(
                    "INSERT INTO events_fts(rowid, body) \
                           SELECT id, CAST(body AS TEXT) FROM events WHERE id > ? AND id <= ?",
                    vec![last.into(), newest.into()],
                ))
                .await?
                .rows_affected();
            txn.execute_raw(statement(
                "UPDATE search_progress SET last_event_id = ? WHERE id = 1",
                vec![newest.into()],
            ))
            .await?;
            Ok(indexed)
        })
    })
    .await
}

/// PostgreSQL's indexing: events not yet indexed have no `words`; a batch of them is locked
/// with `SKIP LOCKED`, so hubs indexing at once take different events, and written back with
/// the words split here. Event ids commit out of order across hubs, so what is left to do is
/// told by the rows themselves, not by the highest id done.
async fn index_on_postgres(db: &Db, batch: u64) -> Result<u64, DbErr> {
    db.write(move |txn| {
        Box::pin(async move {
            let rows = txn
                .query_all_raw(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DatabaseBackend::Postgres,
                    "SELECT id, body FROM events WHERE words IS NULL ORDER BY id LIMIT $1 \
                     FOR UPDATE SKIP LOCKED",
                    [(batch as i64).into()],
                ))
                .await?;
            let mut words = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: i64 = row.try_get("", "id")?;
                let body: Vec<u8> = row.try_get("", "body")?;
                words.push(serde_json::json!({ "id": id, "words": tsvector(&body) }));
            }
            if words.is_empty() {
                return Ok(0);
            }
            let indexed = txn
                .execute_raw(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DatabaseBackend::Postgres,
                    "UPDATE events SET words = CAST(found.words AS tsvector) \
                     FROM json_to_recordset(CAST($1 AS json)) AS found(id bigint, words text) \
                     WHERE events.id = found.id",
                    [serde_json::Value::Array(words).to_string().into()],
                ))
                .await?
                .rows_affected();
            Ok(indexed)
        })
    })
    .await
}

/// The highest word position a `tsvector` keeps; later words are kept without one.
const MAX_POSITION: usize = 16_383;
/// A bound on the `tsvector` literal of one body, well under PostgreSQL's 1 MiB per value:
/// words past it are not indexed.
const MAX_TSVECTOR: usize = 512 * 1024;

/// The tokens of `text` as FTS5's default tokenizer makes them: runs of letters and digits,
/// in lower case, with accents taken off.
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|token| !token.is_empty())
        .map(|token| {
            token
                .nfd()
                .filter(|c| !is_combining_mark(*c))
                .flat_map(char::to_lowercase)
                .collect()
        })
}

/// A body's words as a `tsvector` literal: each token quoted, with its position while
/// positions last (phrases need them).
fn tsvector(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut literal = String::new();
    for (i, token) in tokens(&text).enumerate() {
        if literal.len() + token.len() + 10 > MAX_TSVECTOR {
            break;
        }
        literal.push_str(&lexeme(&token));
        if i < MAX_POSITION {
            literal.push_str(&format!(":{} ", i + 1));
        } else {
            literal.push(' ');
        }
    }
    literal
}

/// A token quoted for a `tsvector` or `tsquery` literal.
fn lexeme(token: &str) -> String {
    format!("'{}'", token.replace('\\', "\\\\").replace('\'', "''"))
}

/// Keeps the search index up to date: indexes in batches whenever woken, and at least every
/// second, until `shutdown`.
pub async fn index_continuously(db: Db, wake: Arc<Notify>, shutdown: CancellationToken) {
    const BATCH: u64 = 2000;
    loop {
        match index_for_search(&db, BATCH).await {
            Ok(BATCH) => continue,
            Ok(_) => {}
            Err(err) => tracing::error!(error = %err, "indexing bodies for search failed"),
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

/// Words looked up to finish the last word of a search: a prefix that finishes as more of them
/// is left to FTS5.
const COMPLETIONS: usize = 16;

/// What a person typed, as an FTS5 query that cannot be read as FTS syntax: each word becomes
/// a quoted phrase (FTS5 splits it into tokens the way it split the bodies), all must match,
/// and the last may be the start of a word.
pub(super) struct Search<'a> {
    words: Vec<&'a str>,
    last: &'a str,
}

impl<'a> Search<'a> {
    /// `None` when there is nothing to search for.
    pub(super) fn parse(text: &'a str) -> Option<Self> {
        let mut words: Vec<&str> = text.split_whitespace().collect();
        let last = words.pop()?;
        text.chars()
            .any(char::is_alphanumeric)
            .then_some(Self { words, last })
    }

    /// Where the last word's last token is, when FTS5's tokenizer keeps it as typed but for
    /// case: ASCII letters and digits, with no other letter joined to either end. Other tokens
    /// (accents, other scripts) are left to FTS5's own prefix search.
    fn last_token(&self) -> Option<Range<usize>> {
        let word = self.last;
        let end = word.rfind(|c: char| c.is_ascii_alphanumeric())? + 1;
        if !word[end..].is_ascii() {
            return None;
        }
        let start = match word[..end]
            .char_indices()
            .rev()
            .find(|(_, c)| !c.is_ascii_alphanumeric())
        {
            None => 0,
            Some((i, c)) if c.is_ascii() => i + 1,
            Some(_) => return None,
        };
        Some(start..end)
    }

    /// The start of a word to look up completions for, as the index spells it.
    pub(super) fn prefix(&self) -> Option<String> {
        self.last_token()
            .map(|token| self.last[token].to_ascii_lowercase())
    }

    /// The query: the last word as a prefix or, given the words [`Self::prefix`] finishes as,
    /// as any one of them. Spelled out, FTS5 reads the newest matches first and stops after a
    /// page; as a prefix it gathers every match first.
    pub(super) fn query(&self, completions: Option<&[String]>) -> String {
        let last = match (completions, self.last_token()) {
            (Some(words), Some(token)) => {
                let (before, after) = (&self.last[..token.start], &self.last[token.end..]);
                let any: Vec<String> = words
                    .iter()
                    .map(|word| phrase(&format!("{before}{word}{after}")))
                    .collect();
                format!("({})", any.join(" OR "))
            }
            _ => format!("{}*", phrase(self.last)),
        };
        let mut query: Vec<String> = self.words.iter().map(|word| phrase(word)).collect();
        query.push(last);
        query.join(" AND ")
    }
}

impl Search<'_> {
    /// The query as PostgreSQL's `tsquery`: each word's tokens as a phrase, all words required,
    /// the last token of the last word as a prefix. Every token is quoted, so nothing typed
    /// reads as query syntax.
    pub(super) fn tsquery(&self) -> String {
        let phrase = |word: &str, prefix: bool| {
            let tokens: Vec<String> = tokens(word).map(|token| lexeme(&token)).collect();
            let last = tokens.len().checked_sub(1)?;
            let mut phrase = tokens;
            if prefix {
                phrase[last].push_str(":*");
            }
            Some(format!("({})", phrase.join(" <-> ")))
        };
        let mut query: Vec<String> = self
            .words
            .iter()
            .filter_map(|word| phrase(word, false))
            .collect();
        query.extend(phrase(self.last, true));
        query.join(" & ")
    }
}

fn phrase(word: &str) -> String {
    format!("\"{}\"", word.replace('"', "\"\""))
}

/// The indexed words that start with `prefix`, in order, when there are 1 to [`COMPLETIONS`]
/// of them. Each is one seek from just past the one before, all in one statement: asking for
/// them all at once would read every occurrence of each.
pub(super) async fn completions(db: &Db, prefix: &str) -> Result<Option<Vec<String>>, DbErr> {
    let Some(last) = prefix.bytes().last().filter(|_| prefix.is_ascii()) else {
        return Ok(None);
    };
    // The prefix is ASCII letters and digits, so the first string past every word it starts is
    // the prefix with its last character moved on by one; and U+0001, a separator to FTS5,
    // sorts before every character a word can hold, so `word` + U+0001 is just past `word`.
    let past = format!("{}{}", &prefix[..prefix.len() - 1], char::from(last + 1));
    let rows = db
        .read()
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            db.read().get_database_backend(),
            "WITH RECURSIVE found(term, n) AS ( \
               SELECT (SELECT term FROM events_fts_words \
                        WHERE term >= ?1 AND term < ?2 LIMIT 1), 1 \
               UNION ALL \
               SELECT (SELECT term FROM events_fts_words \
                        WHERE term >= found.term || char(1) AND term < ?2 LIMIT 1), n + 1 \
                 FROM found WHERE found.term IS NOT NULL AND n <= ?3) \
             SELECT term FROM found WHERE term IS NOT NULL",
            [prefix.into(), past.into(), (COMPLETIONS as i64).into()],
        ))
        .await?;
    let found = rows
        .iter()
        .map(|row| row.try_get::<String>("", "term"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((1..=COMPLETIONS).contains(&found.len()).then_some(found))
}
