//! [`Tokens`]: a story's or a question's tokens, shared with the other examples of the same file.
//!
//! The parser stores each statement's tokens once per file, so a [`Tokens`] is a cheap view (an `Arc` and a
//! range): cloning it copies no words, and the stories of a bAbI story's questions share their statements.
//! It reads like a list of words: [`len`](Tokens::len), [`iter`](Tokens::iter), [`get`](Tokens::get),
//! [`first`](Tokens::first) / [`last`](Tokens::last), [`join`](Tokens::join), [`to_vec`](Tokens::to_vec), and
//! comparison with arrays, slices and vectors of strings. It serialises as a list of strings, and is built
//! from words with [`Tokens::new`] or `collect()`.
//!
//! ```
//! use rkeras_datasets::Tokens;
//! let tokens = Tokens::new(["Mary", "moved", "to", "the", "bathroom", "."]);
//! assert_eq!(tokens.len(), 6);
//! assert_eq!((tokens.get(0), tokens.get(6)), (Some("Mary"), None));
//! assert_eq!(tokens.join(" "), "Mary moved to the bathroom .");
//! assert_eq!(tokens, ["Mary", "moved", "to", "the", "bathroom", "."]);
//! let words: Vec<String> = tokens.to_vec();
//! assert_eq!(words.iter().collect::<Tokens>(), tokens);
//! ```

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::token_store::{Interner, TokenStore};

/// A sequence of tokens (words and punctuation), viewed in a store shared by the examples of one file.
#[derive(Clone, Default)]
pub struct Tokens {
    store: Arc<TokenStore>,
    start: usize,
    end: usize,
}

impl Tokens {
    /// Tokens holding the given words, in a store of their own.
    pub fn new<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> Tokens {
        let words: Vec<S> = words.into_iter().collect();
        let mut interner = Interner::default();
        let ids: Vec<usize> = words
            .iter()
            .map(|word| interner.intern(word.as_ref()))
            .collect();
        let end = ids.len();
        Tokens {
            store: interner.into_store(ids),
            start: 0,
            end,
        }
    }

    /// The tokens `start..end` of a store.
    pub(crate) fn in_store(store: Arc<TokenStore>, start: usize, end: usize) -> Tokens {
        Tokens { store, start, end }
    }

    /// The number of tokens.
    pub fn len(&self) -> usize {
        self.ids().len()
    }

    /// Whether there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.ids().is_empty()
    }

    /// The token at `index`, if there is one.
    pub fn get(&self, index: usize) -> Option<&str> {
        let id = *self.ids().get(index)?;
        self.store.symbol(id)
    }

    /// The first token.
    pub fn first(&self) -> Option<&str> {
        self.get(0)
    }

    /// The last token.
    pub fn last(&self) -> Option<&str> {
        self.get(self.len().checked_sub(1)?)
    }

    /// The tokens in order.
    pub fn iter(&self) -> TokensIter<'_> {
        TokensIter {
            store: &self.store,
            ids: self.ids().iter(),
        }
    }

    /// The tokens joined with `separator`, like `[String]::join`.
    pub fn join(&self, separator: &str) -> String {
        self.iter().collect::<Vec<_>>().join(separator)
    }

    /// The tokens as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_string).collect()
    }

    /// The tokens' symbol ids in their store.
    pub(crate) fn ids(&self) -> &[usize] {
        self.store.ids(self.start, self.end)
    }

    /// The store the tokens are viewed in.
    pub(crate) fn store(&self) -> &Arc<TokenStore> {
        &self.store
    }
}

/// The iterator of [`Tokens::iter`].
#[derive(Debug, Clone)]
pub struct TokensIter<'a> {
    store: &'a TokenStore,
    ids: std::slice::Iter<'a, usize>,
}

impl<'a> Iterator for TokensIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let &id = self.ids.next()?;
        self.store.symbol(id)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.ids.size_hint()
    }
}

impl DoubleEndedIterator for TokensIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let &id = self.ids.next_back()?;
        self.store.symbol(id)
    }
}

impl ExactSizeIterator for TokensIter<'_> {}

impl<'a> IntoIterator for &'a Tokens {
    type Item = &'a str;
    type IntoIter = TokensIter<'a>;

    fn into_iter(self) -> TokensIter<'a> {
        self.iter()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Tokens {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Tokens {
        Tokens::new(iter)
    }
}

impl From<Vec<String>> for Tokens {
    fn from(words: Vec<String>) -> Tokens {
        Tokens::new(words)
    }
}

impl From<&[&str]> for Tokens {
    fn from(words: &[&str]) -> Tokens {
        Tokens::new(words)
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl PartialEq for Tokens {
    fn eq(&self, other: &Tokens) -> bool {
        let same_view = Arc::ptr_eq(&self.store, &other.store)
            && (self.start, self.end) == (other.start, other.end);
        same_view || self.iter().eq(other.iter())
    }
}

impl Eq for Tokens {}

impl<S: AsRef<str>> PartialEq<[S]> for Tokens {
    fn eq(&self, other: &[S]) -> bool {
        self.iter().eq(other.iter().map(AsRef::as_ref))
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Tokens {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for Tokens {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> PartialEq<&[S]> for Tokens {
    fn eq(&self, other: &&[S]) -> bool {
        *self == other[..]
    }
}

impl PartialEq<Tokens> for Vec<String> {
    fn eq(&self, other: &Tokens) -> bool {
        other == self
    }
}

impl PartialEq<Tokens> for Vec<&str> {
    fn eq(&self, other: &Tokens) -> bool {
        other == self
    }
}

impl Serialize for Tokens {
    fn serialize<Ser: Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Tokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tokens, D::Error> {
        Vec::<String>::deserialize(deserializer).map(Tokens::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_of_one_store_compare_by_words() {
        let a = Tokens::new(["a", "b", "a", "c"]);
        let b: Tokens = ["a", "b", "a", "c"].into_iter().collect();
        assert!(!Arc::ptr_eq(a.store(), b.store()));
        assert_eq!(a, b);
        // The three distinct words are stored once; ids follow first appearance.
        assert_eq!(a.store().symbols().len(), 3);
        assert_eq!(a.ids(), [0, 1, 0, 2]);
        let prefix = Tokens::in_store(Arc::clone(a.store()), 0, 2);
        let suffix = Tokens::in_store(Arc::clone(a.store()), 2, 4);
        assert_eq!(prefix, ["a", "b"]);
        assert_eq!(suffix, vec!["a".to_string(), "c".to_string()]);
        assert_ne!(prefix, suffix);
        assert_ne!(prefix, a);
        assert_eq!(
            (suffix.first(), suffix.last(), suffix.get(2)),
            (Some("a"), Some("c"), None)
        );
    }

    #[test]
    fn reads_like_a_list_of_strings() {
        let tokens = Tokens::from(vec!["x".to_string(), "y".to_string()]);
        assert_eq!(format!("{tokens:?}"), r#"["x", "y"]"#);
        assert_eq!(tokens.iter().rev().collect::<Vec<_>>(), ["y", "x"]);
        assert_eq!((&tokens).into_iter().count(), 2);
        assert_eq!(tokens.iter().len(), 2);
        let empty = Tokens::default();
        assert!(empty.is_empty() && empty.first().is_none() && empty.last().is_none());
        assert_eq!(empty.join("-"), "");
    }

    #[test]
    fn serialises_as_a_list_of_strings() {
        let tokens = Tokens::new(["Where", "is", "Mary", "?"]);
        let json = serde_json::to_string(&tokens).unwrap();
        assert_eq!(json, r#"["Where","is","Mary","?"]"#);
        let back: Tokens = serde_json::from_str(&json).unwrap();
        assert_eq!(back, tokens);
    }
}
