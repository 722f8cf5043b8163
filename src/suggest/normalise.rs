//! Normalisation shared by the map and the queries: ASCII-folded, lowercased words.
//!
//! Titles and queries go through the same function, so `Crème`, `CREME` and `creme` meet as
//! `creme`, and `Heavy-Duty` is the two words `heavy duty` on both sides.

/// `text` folded to ASCII (`Crème` → `Creme`), lowercased, with every run of characters that
/// are not ASCII letters or digits turned into a single space, and no leading or trailing space.
pub fn normalise(text: &str) -> String {
    let folded = deunicode::deunicode(text);
    let mut normalised = String::with_capacity(folded.len());
    for word in folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|word| !word.is_empty()) {
        if !normalised.is_empty() {
            normalised.push(' ');
        }
        normalised.extend(word.chars().map(|c| c.to_ascii_lowercase()));
    }
    normalised
}

/// The words of an already normalised text.
pub fn words(normalised: &str) -> impl Iterator<Item = &str> {
    normalised.split(' ').filter(|word| !word.is_empty())
}

#[cfg(test)]
mod tests {
    use super::{normalise, words};

    #[test]
    fn normalise_lowercases_and_folds_accents() {
        assert_eq!(normalise("Crème Élan KETTLE"), "creme elan kettle");
    }

    #[test]
    fn normalise_splits_on_punctuation_and_collapses_spaces() {
        assert_eq!(normalise("  Heavy-Duty   T-Shirt, XL! "), "heavy duty t shirt xl");
    }

    #[test]
    fn normalise_of_only_punctuation_is_empty() {
        assert_eq!(normalise("?!-"), "");
        assert_eq!(words("").count(), 0);
    }
}
