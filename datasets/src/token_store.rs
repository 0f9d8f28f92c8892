//! The storage behind [`Tokens`](crate::Tokens): each distinct word of a parsed file once, and the token
//! sequences of all its examples as symbol ids in one buffer.
//!
//! A parsed file has one [`TokenStore`], shared through an `Arc` by all its examples. The story of a question
//! is a range of the buffer: statements are stored once, in order, so the stories of a bAbI story's questions
//! are growing prefixes of the same range instead of copies. [`Interner`] gives words their ids, borrowing
//! them from the text while parsing; the words are copied once, when the store is built.
//!
//! [`PerStore`] keeps one value per store (a vocabulary remap, a set of used ids), so that the vectoriser works
//! per store rather than per token. Both hash with `foldhash`: interning hashes every token of a file, and
//! SipHash, the standard library's default, was a fifth of the parse time.

use std::sync::Arc;

use foldhash::HashMap;

/// The distinct words of a set of token sequences, and the sequences as ids into them.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    /// The words, by symbol id, in order of first appearance.
    symbols: Vec<Box<str>>,
    /// The token sequences, as symbol ids.
    ids: Vec<usize>,
}

impl TokenStore {
    /// The word of a symbol id, if there is one.
    pub(crate) fn symbol(&self, id: usize) -> Option<&str> {
        self.symbols.get(id).map(|word| &**word)
    }

    /// The words, by symbol id.
    pub(crate) fn symbols(&self) -> &[Box<str>] {
        &self.symbols
    }

    /// The ids of the tokens in `start..end` of the buffer; empty if the range is out of bounds.
    pub(crate) fn ids(&self, start: usize, end: usize) -> &[usize] {
        self.ids.get(start..end).unwrap_or_default()
    }
}

/// Interns words borrowed from the text being parsed, giving each distinct word a symbol id.
#[derive(Debug, Default)]
pub(crate) struct Interner<'a> {
    index: HashMap<&'a str, usize>,
    symbols: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    /// The symbol id of `word`, a new one the first time it is seen.
    pub(crate) fn intern(&mut self, word: &'a str) -> usize {
        if let Some(&id) = self.index.get(word) {
            return id;
        }
        let id = self.symbols.len();
        self.index.insert(word, id);
        self.symbols.push(word);
        id
    }

    /// The store of these words (copied out of the text) and of the token sequences `ids`.
    pub(crate) fn into_store(self, ids: Vec<usize>) -> Arc<TokenStore> {
        Arc::new(TokenStore {
            symbols: self.symbols.into_iter().map(Box::from).collect(),
            ids,
        })
    }
}

/// One value per [`TokenStore`], found by the store's address. It lives within one call that borrows the
/// examples, and so keeps their stores alive: no address can be freed and reused by another store meanwhile.
#[derive(Debug)]
pub(crate) struct PerStore<T> {
    values: HashMap<*const TokenStore, T>,
}

impl<T> Default for PerStore<T> {
    fn default() -> Self {
        Self {
            values: HashMap::default(),
        }
    }
}

impl<T> PerStore<T> {
    /// The value of `store`, made by `make` the first time the store is seen.
    pub(crate) fn get_or_insert_with(
        &mut self,
        store: &Arc<TokenStore>,
        make: impl FnOnce(&Arc<TokenStore>) -> T,
    ) -> &mut T {
        self.values
            .entry(Arc::as_ptr(store))
            .or_insert_with(|| make(store))
    }

    /// The values, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &T> {
        self.values.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_ids_follow_first_appearance() {
        let text = String::from("b a b c a");
        let mut interner = Interner::default();
        let ids: Vec<usize> = text.split(' ').map(|w| interner.intern(w)).collect();
        assert_eq!(ids, [0, 1, 0, 2, 1]);
        let store = interner.into_store(ids);
        drop(text);
        assert_eq!(
            store.symbols(),
            [Box::from("b"), Box::from("a"), Box::from("c")]
        );
        assert_eq!((store.symbol(2), store.symbol(3)), (Some("c"), None));
        assert_eq!(store.ids(1, 3), [1, 0]);
        assert!(store.ids(4, 6).is_empty() && store.ids(3, 2).is_empty());
    }

    #[test]
    fn per_store_makes_one_value_per_store() {
        let (a, b) = (
            Arc::new(TokenStore::default()),
            Arc::new(TokenStore::default()),
        );
        let mut made = 0;
        let mut per_store = PerStore::default();
        for store in [&a, &b, &a, &a, &b] {
            *per_store.get_or_insert_with(store, |_| {
                made += 1;
                0
            }) += 1;
        }
        assert_eq!(made, 2);
        let mut counts: Vec<i32> = per_store.values().copied().collect();
        counts.sort();
        assert_eq!(counts, [2, 3]);
    }
}
