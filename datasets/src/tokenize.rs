//! Sentence tokenisation, identical to the Keras bAbI examples'
//! `[t.strip() for t in re.split(r"(\W+)", sent) if t.strip()]`.
//!
//! `re.split` with a capturing group returns the maximal runs of word characters and the maximal runs of
//! non-word characters in turn; each run is stripped of whitespace and kept if anything is left. So words and
//! punctuation become separate tokens, spaces disappear, and a run such as `", "` becomes `","`.
//!
//! A word character is what Python 3's `\w` matches on `str` patterns: a letter or digit (Unicode, so on ASCII
//! text exactly `[A-Za-z0-9_]`) or the underscore.
//!
//! ```
//! use rkeras_datasets::tokenize;
//! assert_eq!(tokenize("Where is Mary? "), ["Where", "is", "Mary", "?"]);
//! assert_eq!(tokenize("Bob's cat, 2 dogs."), ["Bob", "'", "s", "cat", ",", "2", "dogs", "."]);
//! ```

/// Whether `c` is a word character of Python 3's `re` (`\w` on `str` patterns).
fn is_word_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Splits a sentence into word and punctuation tokens, exactly as the Keras bAbI examples do.
pub fn tokenize(sentence: &str) -> Vec<String> {
    split_tokens(sentence).map(str::to_string).collect()
}

/// The tokens of [`tokenize()`] as slices of `sentence`, without allocating.
///
/// ```
/// use rkeras_datasets::tokenize::split_tokens;
/// assert!(split_tokens("a.. b").eq(["a", "..", "b"]));
/// ```
pub fn split_tokens(sentence: &str) -> SplitTokens<'_> {
    SplitTokens { rest: sentence }
}

/// The iterator of [`split_tokens`]: the stripped, non-empty runs of word and of non-word characters.
#[derive(Debug, Clone)]
pub struct SplitTokens<'a> {
    /// The text not yet split.
    rest: &'a str,
}

impl<'a> Iterator for SplitTokens<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        loop {
            let word = is_word_char(self.rest.chars().next()?);
            let (run, rest) = self.rest.split_at(run_end(self.rest, word));
            self.rest = rest;
            // A word character is never whitespace, so only a run of non-word characters needs stripping.
            let stripped = if word { run } else { run.trim() };
            if !stripped.is_empty() {
                return Some(stripped);
            }
        }
    }
}

/// The byte offset where the run of word (or non-word) characters at the start of `text` ends. ASCII bytes
/// are classified directly; other characters are decoded.
fn run_end(text: &str, word: bool) -> usize {
    let bytes = text.as_bytes();
    let mut pos = 0;
    while let Some(&byte) = bytes.get(pos) {
        let (is_word, len) = if byte.is_ascii() {
            (byte == b'_' || byte.is_ascii_alphanumeric(), 1)
        } else {
            match text.get(pos..).and_then(|rest| rest.chars().next()) {
                Some(c) => (is_word_char(c), c.len_utf8()),
                None => return bytes.len(),
            }
        };
        if is_word != word {
            return pos;
        }
        pos += len;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected tokens below were written by hand from the semantics of Python's
    // `re.split(r"(\W+)", s)`: e.g. re.split(r"(\W+)", "a.. b") == ['a', '.. ', 'b'].
    #[test]
    fn splits_words_and_punctuation() {
        assert_eq!(
            tokenize("Mary moved to the bathroom."),
            ["Mary", "moved", "to", "the", "bathroom", "."]
        );
        assert_eq!(
            tokenize("John moved to  the bedroom."),
            ["John", "moved", "to", "the", "bedroom", "."]
        );
    }

    #[test]
    fn non_word_runs_stay_whole_after_stripping() {
        assert_eq!(tokenize("a.. b"), ["a", "..", "b"]);
        assert_eq!(tokenize("yes ? ! no"), ["yes", "? !", "no"]);
        assert_eq!(tokenize("  ,leading"), [",", "leading"]);
    }

    #[test]
    fn underscore_and_digits_are_word_characters() {
        assert_eq!(tokenize("room_2b-x"), ["room_2b", "-", "x"]);
    }

    #[test]
    fn empty_and_blank_give_no_tokens() {
        assert!(tokenize("").is_empty());
        assert!(tokenize(" \t ").is_empty());
    }

    #[test]
    fn split_tokens_borrows_the_same_tokens() {
        let sentence = "  Bob's cat,  2 dogs..  ";
        let borrowed: Vec<&str> = split_tokens(sentence).collect();
        assert_eq!(borrowed, ["Bob", "'", "s", "cat", ",", "2", "dogs", ".."]);
        assert_eq!(tokenize(sentence), borrowed);
    }

    #[test]
    fn runs_mixing_ascii_and_other_characters_stay_whole() {
        assert_eq!(tokenize("naïve café_2… ok"), ["naïve", "café_2", "…", "ok"]);
        assert_eq!(tokenize("x\u{3000}!\u{a0}y"), ["x", "!", "y"]);
        assert_eq!(tokenize("Σ=Δ"), ["Σ", "=", "Δ"]);
    }

    #[test]
    fn unicode_letters_are_word_characters() {
        assert_eq!(
            tokenize("Zoë went to the café."),
            ["Zoë", "went", "to", "the", "café", "."]
        );
    }
}
