//! Rows the hot paths read on every request and that change rarely, kept in memory by key:
//! sources (every webhook), API keys and event types (every publish). Every change to such a
//! row is followed by [`super::Db::changed`], which forgets it here and tells the other hubs
//! sharing the database to forget it too (see [`super::changes`]); so a read never sees a row
//! older than the last change this hub made or heard of.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock, RwLockWriteGuard};

use sea_orm::DbErr;

use super::api_keys::ApiKey;
use super::catalog::EventType;
use super::changes::Change;
use super::sources::Source;

/// Rows kept per cache at most: rows that exist are few (sources, keys, types), and rows that
/// do not are never kept, so a flood of unknown keys costs no memory.
const MAX_KEPT: usize = 10_000;

pub struct Cache<V>(Arc<RwLock<State<V>>>);

struct State<V> {
    /// Bumped by every change, so a read that started before a change cannot keep what it
    /// read.
    generation: u64,
    rows: HashMap<String, V>,
}

impl<V> Default for Cache<V> {
    fn default() -> Self {
        Self(Arc::new(RwLock::new(State {
            generation: 0,
            rows: HashMap::new(),
        })))
    }
}

impl<V> Clone for Cache<V> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<V: Clone> Cache<V> {
    /// The row kept for `key`, or what `read` finds (kept if found).
    pub async fn get_or_read(
        &self,
        key: &str,
        read: impl Future<Output = Result<Option<V>, DbErr>>,
    ) -> Result<Option<V>, DbErr> {
        let generation = {
            let state = self.0.read().unwrap_or_else(|p| p.into_inner());
            if let Some(row) = state.rows.get(key) {
                return Ok(Some(row.clone()));
            }
            state.generation
        };
        let found = read.await?;
        if let Some(row) = &found {
            let mut state = self.lock();
            if state.generation == generation && state.rows.len() < MAX_KEPT {
                state.rows.insert(key.to_owned(), row.clone());
            }
        }
        Ok(found)
    }

    pub fn forget(&self, key: &str) {
        let mut state = self.lock();
        state.generation += 1;
        state.rows.remove(key);
    }

    pub fn forget_all(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.rows.clear();
    }

    fn lock(&self) -> RwLockWriteGuard<'_, State<V>> {
        self.0.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Every cache of a hub.
#[derive(Clone, Default)]
pub struct Caches {
    /// By id.
    pub sources: Cache<Source>,
    /// Active keys by the hash of the key.
    pub api_keys: Cache<ApiKey>,
    /// By name.
    pub event_types: Cache<EventType>,
}

impl Caches {
    /// Forgets what `change`, this hub's or another's, made stale.
    pub fn heard(&self, change: &Change) {
        match change {
            Change::Source(id) => self.sources.forget(id),
            Change::ApiKeys => self.api_keys.forget_all(),
            Change::EventType(name) => self.event_types.forget(name),
            Change::Everything => {
                self.sources.forget_all();
                self.api_keys.forget_all();
                self.event_types.forget_all();
            }
            Change::Handlers | Change::Deliveries | Change::HandlerRuns => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_read_that_a_change_overtook_is_not_kept() {
        let cache: Cache<String> = Cache::default();
        let read = |value: &'static str| async move { Ok(Some(value.to_owned())) };
        assert_eq!(
            cache.get_or_read("a", read("one")).await.unwrap(),
            Some("one".into())
        );
        // Kept: a second read is not made.
        assert_eq!(
            cache.get_or_read("a", read("two")).await.unwrap(),
            Some("one".into())
        );
        cache.forget("a");
        let overtaken = cache.get_or_read("a", async {
            cache.forget("a");
            Ok(Some("stale".to_owned()))
        });
        assert_eq!(overtaken.await.unwrap(), Some("stale".into()));
        assert_eq!(
            cache.get_or_read("a", read("fresh")).await.unwrap(),
            Some("fresh".into()),
            "the overtaken read was not kept"
        );
        // Absent rows are not kept.
        assert_eq!(
            cache.get_or_read("b", async { Ok(None) }).await.unwrap(),
            None
        );
        assert_eq!(
            cache.get_or_read("b", read("made")).await.unwrap(),
            Some("made".into())
        );
        cache.forget_all();
        assert_eq!(
            cache.get_or_read("b", read("again")).await.unwrap(),
            Some("again".into())
        );
    }
}
