//! Keras's `text_to_word_sequence`: lower-case, filter characters out, split.

use crate::error::{DatasetError, Result};

/// Keras's default `filters`: all punctuation but the apostrophe, plus TAB and newline.
pub const DEFAULT_FILTERS: &str = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

/// Keras's `text_to_word_sequence(text, filters, lower, split)`: the text lower-cased (when `lower`), every
/// character of `filters` replaced by `split`, then split on `split` with empty pieces dropped. An empty `split`
/// is an error, as Python's `str.split("")` is.
///
/// ```
/// use rkeras_datasets::text::{DEFAULT_FILTERS, text_to_word_sequence};
/// let words = text_to_word_sequence("Hello, World!  It's me.", DEFAULT_FILTERS, true, " ")?;
/// assert_eq!(words, vec!["hello", "world", "it's", "me"]);
/// # Ok::<(), rkeras_datasets::DatasetError>(())
/// ```
pub fn text_to_word_sequence(
    text: &str,
    filters: &str,
    lower: bool,
    split: &str,
) -> Result<Vec<String>> {
    if split.is_empty() {
        return Err(DatasetError::InvalidArgument {
            op: "text_to_word_sequence",
            reason: "`split` must not be empty".into(),
        });
    }
    let text = if lower {
        text.to_lowercase()
    } else {
        text.to_string()
    };
    let mut translated = String::with_capacity(text.len());
    for c in text.chars() {
        if filters.contains(c) {
            translated.push_str(split);
        } else {
            translated.push(c);
        }
    }
    Ok(translated
        .split(split)
        .filter(|piece| !piece.is_empty())
        .map(str::to_string)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_lower_and_split_as_keras() {
        // Keras: text_to_word_sequence("A-b\tc\n\nD's e") == ['a', 'b', 'c', "d's", 'e'].
        assert_eq!(
            text_to_word_sequence("A-b\tc\n\nD's e", DEFAULT_FILTERS, true, " ").unwrap(),
            vec!["a", "b", "c", "d's", "e"]
        );
        // Without lowering, a custom split and filters: "x|Y;z" with filters ";" and split "|".
        assert_eq!(
            text_to_word_sequence("x|Y;z||", ";", false, "|").unwrap(),
            vec!["x", "Y", "z"]
        );
        assert!(text_to_word_sequence("a b", "", true, " ").unwrap() == vec!["a", "b"]);
        let error = text_to_word_sequence("a", "", true, "").unwrap_err();
        assert!(error.to_string().contains("split"), "{error}");
    }
}
