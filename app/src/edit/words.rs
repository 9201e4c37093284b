//! Splitting a command line into words, as a shell would for the simple cases: spaces
//! separate, `'…'` and `"…"` quote (a backslash escapes inside double quotes and outside
//! quotes), `#` at the start of a word begins a comment.

use anyhow::{bail, Result};

/// The words of `line`.
pub fn split_words(line: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => bail!("a quote (') is not closed"),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => word.push(c),
                            None => bail!("a quote (\") is not closed"),
                        },
                        Some(c) => word.push(c),
                        None => bail!("a quote (\") is not closed"),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    word.push(c);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// `word` quoted for a command line when it needs it.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.:/+=,@%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_comments() {
        assert_eq!(
            split_words(r#"import "my file.wav" --track 'Boom 1' # note"#).unwrap(),
            ["import", "my file.wav", "--track", "Boom 1"]
        );
        assert_eq!(split_words(r"a\ b c").unwrap(), ["a b", "c"]);
        assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
        assert_eq!(split_words("x=''").unwrap(), ["x="]);
        assert!(split_words("'open").is_err());
        for w in ["plain", "with space", "it's"] {
            assert_eq!(split_words(&quote(w)).unwrap(), [w]);
        }
    }
}
