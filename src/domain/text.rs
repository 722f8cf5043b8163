//! The one rule for free text from clients: which control characters a name, a title, a
//! location or a query word may hold (none), and which a description may (tab, LF, CR).
//!
//! Why refuse them at all: a NUL ends a string for SQLite's `length()` (so a table's
//! `CHECK (length(trim(name)) > 0)` refused `"\0abc"` only after the handler had accepted it,
//! a 500), and the others are invisible in the admin pages and the search results, so nothing
//! a person would type needs them. The contract's Conventions: U+0000–U+001F and U+007F are
//! `400`; C1 controls (U+0080–U+009F) are ordinary characters as far as the contract goes.

use super::FieldError;

/// Which control characters a field allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A name, title, location, username or query word: one line, no control characters.
    Line,
    /// A description: tab, LF and CR are kept (paragraphs, pasted tables); the rest refused.
    Multiline,
}

impl TextKind {
    /// Whether `c` is refused in this kind of text.
    fn refuses(self, c: char) -> bool {
        c.is_ascii_control() && !(self == Self::Multiline && matches!(c, '\t' | '\n' | '\r'))
    }

    /// The message of a refused field.
    fn message(self) -> &'static str {
        match self {
            Self::Line => "must not contain control characters (U+0000 to U+001F, U+007F)",
            Self::Multiline => "must not contain control characters other than tab, line feed and carriage return",
        }
    }
}

/// `text` when it holds no control character `kind` refuses; otherwise the field error of
/// `field`, naming the first such character's position.
pub fn checked<'a>(field: &str, text: &'a str, kind: TextKind) -> Result<&'a str, FieldError> {
    match text.chars().position(|c| kind.refuses(c)) {
        None => Ok(text),
        Some(at) => Err(FieldError::new(field, format!("{} (character {} is one)", kind.message(), at + 1))),
    }
}

/// A query parameter of free text (a search's `q`, a title filter): refused with a control
/// character anywhere (checked before trimming), else trimmed; `None` when absent or blank.
pub fn query_text(field: &str, raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(raw) = raw else { return Ok(None) };
    let trimmed = checked(field, raw, TextKind::Line)?.trim();
    Ok((!trimmed.is_empty()).then(|| trimmed.to_owned()))
}

/// A query as the search analytics and the search rules compare it: folded to ASCII
/// (`Crème` → `creme`), lowercased, every run of characters that are not ASCII letters or
/// digits one space, at most `max_words` words (the rest cut).
pub fn folded_words(text: &str, max_words: usize) -> String {
    // Most queries are ASCII already: no transliteration, no copy.
    let folded = if text.is_ascii() { std::borrow::Cow::Borrowed(text) } else { deunicode::deunicode(text).into() };
    let mut words = String::with_capacity(folded.len());
    for word in folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty()).take(max_words) {
        if !words.is_empty() {
            words.push(' ');
        }
        words.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_words_are_ascii_lowercase_single_spaced_and_cut() {
        assert_eq!(folded_words("  Crème   BRÛLÉE, kettle! ", 8), "creme brulee kettle");
        assert_eq!(folded_words("a b c d e f g h i j", 8), "a b c d e f g h");
        assert_eq!(folded_words("?!", 8), "");
    }

    #[test]
    fn a_line_refuses_every_ascii_control_character_and_nothing_else() {
        for code in (0u32..0x20).chain([0x7F]) {
            let text = format!("a{}b", char::from_u32(code).expect("a char"));
            assert!(checked("name", &text, TextKind::Line).is_err(), "U+{code:04X}");
        }
        for fine in ["Kettle", "café ☕", "a\u{80}b", "a\u{9F}b", "tab-free", ""] {
            assert_eq!(checked("name", fine, TextKind::Line), Ok(fine));
        }
    }

    #[test]
    fn query_text_is_trimmed_blank_is_none_and_a_control_character_anywhere_is_refused() {
        assert_eq!(query_text("q", Some("  kettle ")), Ok(Some("kettle".to_owned())));
        assert_eq!(query_text("q", Some("   ")), Ok(None));
        assert_eq!(query_text("q", None), Ok(None));
        assert!(query_text("q", Some("kettle\n")).is_err(), "trailing LF is not trimmed away");
    }

    #[test]
    fn a_description_keeps_tab_and_line_breaks_but_not_nul() {
        assert!(checked("description", "one\ttwo\r\nthree\n", TextKind::Multiline).is_ok());
        let error = checked("description", "one\0two", TextKind::Multiline).expect_err("NUL");
        assert_eq!(error.field, "description");
        assert!(error.message.contains("character 4"), "{}", error.message);
        assert!(checked("description", "bell\u{7}", TextKind::Multiline).is_err());
    }
}
