//! Paging through the newest-first lists (events, deliveries) by id, both ways, with counts
//! for "51–100 of 734". Counting stops at [`COUNT_CAP`]: past it a list says "10,000+", so a
//! page view never counts a million rows.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect, QueryTrait, Select};

use super::Db;

/// Rows counted at most.
pub const COUNT_CAP: u64 = 10_000;

/// Where a page of a newest-first list is, by the id of a row beside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Cursor {
    /// The newest rows.
    #[default]
    Newest,
    /// The rows just older than this id.
    Before(i64),
    /// The rows just newer than this id (read oldest first, then turned round).
    After(i64),
}

impl Cursor {
    /// From a request's `before` and `after`; `before` wins if both are given.
    pub fn of(before: Option<i64>, after: Option<i64>) -> Self {
        match (before, after) {
            (Some(before), _) => Self::Before(before),
            (None, Some(after)) => Self::After(after),
            (None, None) => Self::Newest,
        }
    }

    /// Orders `select` by `id`, newest first (oldest first after a row, see
    /// [`Cursor::newest_first`]), and bounds it by the cursor's row.
    pub fn bound(self, select: &mut SelectStatement, id: Expr) {
        match self {
            Self::Newest => select.order_by_expr(id, Order::Desc),
            Self::Before(before) => select
                .and_where(id.clone().lt(before))
                .order_by_expr(id, Order::Desc),
            Self::After(after) => select
                .and_where(id.clone().gt(after))
                .order_by_expr(id, Order::Asc),
        };
    }

    /// A page read as [`Cursor::bound`] ordered it, newest first.
    pub fn newest_first<T>(self, mut page: Vec<T>) -> Vec<T> {
        if let Self::After(_) = self {
            page.reverse();
        }
        page
    }
}

/// A list's rows as its filters find them (the cursor left aside), and how many of those are
/// newer than row `newer_than`, when given; both up to [`COUNT_CAP`]. `matching` gives the
/// filtered query for a cursor.
pub async fn total_and_newer<E, Q>(
    db: &Db,
    newer_than: Option<i64>,
    matching: impl Fn(Cursor) -> Q,
) -> Result<(u64, u64), DbErr>
where
    E: EntityTrait,
    Q: Future<Output = Result<Select<E>, DbErr>>,
{
    let total = count(db, matching(Cursor::Newest).await?).await?;
    let newer = match newer_than {
        Some(id) => count(db, matching(Cursor::After(id)).await?).await?,
        None => 0,
    };
    Ok((total, newer))
}

/// How many rows `select` finds, up to `COUNT_CAP` (more: `COUNT_CAP`).
pub async fn count<E: EntityTrait>(db: &Db, select: Select<E>) -> Result<u64, DbErr> {
    let capped = select
        .select_only()
        .expr_as(Expr::val(1), "one")
        .limit(COUNT_CAP)
        .into_query();
    let statement = Query::select()
        .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
        .from_subquery(capped, Alias::new("capped"))
        .to_owned();
    let n: i64 = db
        .read()
        .query_one(&statement)
        .await?
        .map(|row| row.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    Ok(u64::try_from(n).unwrap_or(0))
}
