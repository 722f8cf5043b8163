//! Ranking: which titles a query suggests, and in which order.
//!
//! Three groups, each complete before the next: titles that start with the query (for one
//! word: whose first word starts with it), then titles with any word starting with the last
//! query word, then — for a last word of 5+ characters — titles with a word within one edit
//! of it (two for 8+). Earlier query words must match whole title words in every group.
//! Within a group the map's rank decides (more popular, then shorter, then alphabetical);
//! titles changed since the map was built come last in their group.

use fst::automaton::Str;
use fst::{Automaton, IntoStreamer, Streamer};

use super::map::{SuggestMap, TitleId};
use super::normalise::{normalise, words};
use super::overlay::Overlay;
use super::postings::{Intersection, UnionCursor};
use super::query::SuggestQuery;
use super::typo::TypoMatcher;

/// The most titles one answer holds (contract).
pub const MAX_SUGGESTIONS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    TitleStart,
    AnyWordStart,
    Typo,
}

/// The titles `query` suggests, best first, at most [`MAX_SUGGESTIONS`], each once.
pub fn suggest(map: &SuggestMap, overlay: &Overlay, query: &SuggestQuery) -> Vec<String> {
    let mut results = Vec::with_capacity(MAX_SUGGESTIONS);
    if query.prefix().is_empty() {
        return results;
    }
    let plan = Plan::resolve(map, query);
    for group in [Group::TitleStart, Group::AnyWordStart, Group::Typo] {
        let typo = if group == Group::Typo {
            match TypoMatcher::new(query.prefix()) {
                Some(typo) => Some(typo),
                None => break,
            }
        } else {
            None
        };
        let mut matches = plan.map_matches(map, group, typo.as_ref());
        while results.len() < MAX_SUGGESTIONS {
            let Some(id) = matches.next() else { break };
            if !overlay.hides(id) {
                push_distinct(&mut results, map.title(id));
            }
        }
        for title in changed_titles(overlay, query, group, typo.as_ref()) {
            push_distinct(&mut results, title);
        }
        if results.len() >= MAX_SUGGESTIONS {
            results.truncate(MAX_SUGGESTIONS);
            break;
        }
    }
    results
}

fn push_distinct(results: &mut Vec<String>, title: &str) {
    if results.len() < MAX_SUGGESTIONS && !results.iter().any(|seen| seen == title) {
        results.push(title.to_owned());
    }
}

/// The query's words looked up in the map once, for all groups.
struct Plan<'q> {
    query: &'q SuggestQuery,
    /// Word indexes of the whole words; `None` when one is in no title, so no map title matches.
    whole_words: Option<Vec<u64>>,
    /// Indexes of the words starting with the last query word.
    prefix_words: Vec<u64>,
}

impl<'q> Plan<'q> {
    fn resolve(map: &SuggestMap, query: &'q SuggestQuery) -> Self {
        let whole_words = query.whole_words().map(|word| map.word(word)).collect();
        let mut prefix_words = Vec::new();
        let mut stream = map.words().search(Str::new(query.prefix()).starts_with()).into_stream();
        while let Some((_, index)) = stream.next() {
            prefix_words.push(index);
        }
        Self { query, whole_words, prefix_words }
    }

    /// The map's titles in `group`, best first (they may include titles of earlier groups).
    fn map_matches<'m>(
        &self,
        map: &'m SuggestMap,
        group: Group,
        typo: Option<&TypoMatcher>,
    ) -> Box<dyn Iterator<Item = TitleId> + 'm> {
        let Some(whole_words) = &self.whole_words else {
            return Box::new(std::iter::empty());
        };
        let any_of =
            |indexes: &[u64]| UnionCursor::new(indexes.iter().map(|&index| map.any_word_titles(index)).collect());
        let first_of =
            |indexes: &[u64]| UnionCursor::new(indexes.iter().map(|&index| map.first_word_titles(index)).collect());
        let mut constraints = Vec::new();
        match (group, whole_words.split_first()) {
            (Group::TitleStart, None) => constraints.push(first_of(&self.prefix_words)),
            (Group::TitleStart, Some((first, rest))) => {
                constraints.push(first_of(std::slice::from_ref(first)));
                constraints.extend(rest.iter().map(|index| any_of(std::slice::from_ref(index))));
                constraints.push(any_of(&self.prefix_words));
                // The constraints do not see word order; checking the few survivors does.
                let phrase = self.query.normalised().to_owned();
                let in_order = move |id: &TitleId| normalise(map.title(*id)).starts_with(&phrase);
                return Box::new(Intersection::new(constraints).filter(in_order));
            }
            (Group::AnyWordStart, _) => {
                constraints.extend(whole_words.iter().map(|index| any_of(std::slice::from_ref(index))));
                constraints.push(any_of(&self.prefix_words));
            }
            (Group::Typo, _) => {
                let near_words = typo.map(|typo| typo.word_indexes(map.words())).unwrap_or_default();
                constraints.extend(whole_words.iter().map(|index| any_of(std::slice::from_ref(index))));
                constraints.push(any_of(&near_words));
            }
        }
        Box::new(Intersection::new(constraints))
    }
}

/// Titles changed since the map was built that fall in `group`, shortest then alphabetical.
fn changed_titles<'o>(
    overlay: &'o Overlay,
    query: &SuggestQuery,
    group: Group,
    typo: Option<&TypoMatcher>,
) -> Vec<&'o str> {
    if overlay.is_empty() {
        return Vec::new();
    }
    let mut titles: Vec<&str> = overlay
        .titles()
        .filter(|(_, normalised)| changed_title_matches(normalised, query, group, typo))
        .map(|(title, _)| title)
        .collect();
    titles.sort_by_key(|title| (title.chars().count(), *title));
    titles
}

fn changed_title_matches(normalised: &str, query: &SuggestQuery, group: Group, typo: Option<&TypoMatcher>) -> bool {
    if group == Group::TitleStart {
        return normalised.starts_with(query.normalised());
    }
    let has_whole_words = query.whole_words().all(|wanted| words(normalised).any(|word| word == wanted));
    has_whole_words
        && words(normalised).any(|word| match (group, typo) {
            (Group::Typo, Some(typo)) => typo.matches(word),
            _ => word.starts_with(query.prefix()),
        })
}

#[cfg(test)]
mod tests {
    use super::suggest;
    use crate::db::store::popularity::ProductPopularity;
    use crate::domain::ProductId;
    use crate::suggest::map::SuggestMap;
    use crate::suggest::overlay::{ChangedTitle, Overlay};
    use crate::suggest::query::SuggestQuery;

    fn map_of(titles: &[(&str, i64)]) -> SuggestMap {
        let products = titles.iter().zip(1..).map(|(&(title, units_ordered), id)| ProductPopularity {
            product_id: ProductId(id),
            title: title.to_owned(),
            units_ordered,
            stock: 0,
        });
        SuggestMap::build(products.collect())
    }

    fn ask(map: &SuggestMap, q: &str) -> Vec<String> {
        suggest(map, &Overlay::default(), &SuggestQuery::parse(Some(q)).expect("valid q"))
    }

    #[test]
    fn titles_starting_with_the_query_come_before_titles_merely_containing_it() {
        let map = map_of(&[("Steel Kettle", 50), ("Kettle Large", 0), ("Kettlebell", 1)]);
        assert_eq!(ask(&map, "kett"), ["Kettlebell", "Kettle Large", "Steel Kettle"]);
    }

    #[test]
    fn within_a_group_popular_then_short_then_alphabetical() {
        let map = map_of(&[("Tent Deluxe", 0), ("Tent B", 0), ("Tent A", 0), ("Tent Popular Large", 3)]);
        assert_eq!(ask(&map, "ten"), ["Tent Popular Large", "Tent A", "Tent B", "Tent Deluxe"]);
    }

    #[test]
    fn earlier_query_words_must_match_whole_words() {
        let map = map_of(&[("Steel Kettle", 0), ("Steelworks Kettle", 0), ("Kettle of Steel", 0)]);
        assert_eq!(ask(&map, "steel ket"), ["Steel Kettle", "Kettle of Steel"]);
    }

    #[test]
    fn at_most_ten_titles_each_once() {
        let titles: Vec<String> = (0..30).map(|n| format!("Lamp {n:02}")).collect();
        let mut catalog: Vec<(&str, i64)> = titles.iter().map(|title| (title.as_str(), 0)).collect();
        catalog.push(("Lamp 00", 0));
        let answer = ask(&map_of(&catalog), "lamp");
        assert_eq!(answer.len(), 10);
        assert_eq!(answer[0], "Lamp 00");
        assert!(answer.iter().enumerate().all(|(i, title)| !answer[..i].contains(title)));
    }

    #[test]
    fn a_mistyped_word_of_five_letters_or_more_still_finds_the_title() {
        let map = map_of(&[("Acme Blender", 0), ("Acme Toaster", 0)]);
        assert_eq!(ask(&map, "blnder"), ["Acme Blender"]);
        assert_eq!(ask(&map, "bledner"), ["Acme Blender"]);
        assert!(ask(&map, "blx").is_empty(), "no typo tolerance under five letters");
    }

    #[test]
    fn exact_matches_rank_before_typo_matches() {
        let map = map_of(&[("Cable Tidy", 5), ("Table Lamp", 0)]);
        assert_eq!(ask(&map, "table"), ["Table Lamp", "Cable Tidy"]);
    }

    #[test]
    fn accents_and_case_do_not_matter() {
        let map = map_of(&[("Crème Brûlée Torch", 0)]);
        assert_eq!(ask(&map, "CREME br"), ["Crème Brûlée Torch"]);
        assert_eq!(ask(&map, "brûl"), ["Crème Brûlée Torch"]);
    }

    #[test]
    fn a_changed_product_shows_its_new_title_and_never_its_old_one() {
        let map = map_of(&[("Kettle Old", 0), ("Kettle Other", 0)]);
        let change = ChangedTitle::new(1, ProductId(1), Some("Kettle New".to_owned()));
        let overlay = Overlay::default().with_changes(&map, vec![change]);
        let query = SuggestQuery::parse(Some("kettle")).expect("valid q");
        assert_eq!(suggest(&map, &overlay, &query), ["Kettle Other", "Kettle New"]);
    }
}
