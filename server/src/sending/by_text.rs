//! What is made from a stored text (a parsed payload filter, a compiled JSON Schema), kept by
//! the text itself: publishing needs it for every message, and a change made on any hub is a
//! new text, seen at once without telling anyone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

/// Entries kept; beyond it the cache starts again.
const MAX_ENTRIES: usize = 512;

pub struct ByText<T> {
    made: OnceLock<Mutex<HashMap<String, Arc<T>>>>,
}

impl<T> ByText<T> {
    pub const fn new() -> Self {
        Self {
            made: OnceLock::new(),
        }
    }

    /// What `make` makes of `text`, made once; a failure is not kept.
    pub fn get<E>(&self, text: &str, make: impl FnOnce(&str) -> Result<T, E>) -> Result<Arc<T>, E> {
        let made = self.made.get_or_init(Mutex::default);
        // The map holds no invariant a panic elsewhere could have broken.
        let lock = || made.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = lock().get(text) {
            return Ok(Arc::clone(found));
        }
        let new = Arc::new(make(text)?);
        let mut map = lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(text.to_owned(), Arc::clone(&new));
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_text_is_made_once_and_a_failure_is_not_kept() {
        static LENGTHS: ByText<usize> = ByText::new();
        let first = LENGTHS.get("abc", |t| Ok::<_, ()>(t.len())).unwrap();
        let again = LENGTHS.get("abc", |_| Err(())).unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(LENGTHS.get("de", |_| Err("no")).unwrap_err(), "no");
        assert_eq!(*LENGTHS.get("de", |t| Ok::<_, &str>(t.len())).unwrap(), 2);
    }
}
