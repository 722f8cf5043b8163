//! Catalog changes committed since the published map was built, applied on top of it until
//! the background rebuild catches up.
//!
//! The writer tells us which products changed before it answers the client, and a rebuild
//! at a million titles takes seconds; so in between, the old titles of changed products are
//! hidden and their new titles are matched one by one. This errs on the safe side: a title
//! shared with an unchanged product is hidden too, for the few seconds until the rebuild.

use std::collections::{HashMap, HashSet};

use super::map::{SuggestMap, TitleId};
use super::normalise::normalise;
use crate::domain::ProductId;

/// A product's title as of a change the map does not include yet.
#[derive(Debug, Clone)]
pub struct ChangedTitle {
    /// The change counter value of the commit that made this change.
    pub change: u64,
    /// The product whose title changed.
    pub product_id: ProductId,
    /// The new title; `None` when it could not be read (the old one is still hidden).
    pub title: Option<String>,
    /// The new title normalised as the map's keys are (empty when the title is unknown).
    pub normalised: String,
}

impl ChangedTitle {
    /// The change `change` made to `product_id`'s title (`None`: unreadable, or deleted).
    pub fn new(change: u64, product_id: ProductId, title: Option<String>) -> Self {
        let normalised = title.as_deref().map(normalise).unwrap_or_default();
        Self { change, product_id, title, normalised }
    }
}

/// The changes a published map does not include yet.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    /// Latest change per product (in no particular order: matches are sorted when asked).
    changes: Vec<ChangedTitle>,
    /// Map titles that changed products had at build time: never shown.
    hidden: HashSet<TitleId>,
}

impl Overlay {
    /// This overlay plus `changes` (later ones win), whose old titles are looked up in `map`.
    /// One pass over the overlay per commit, however many products the commit changed.
    pub fn with_changes(&self, map: &SuggestMap, changes: Vec<ChangedTitle>) -> Self {
        let mut overlay = self.clone();
        overlay.hidden.extend(changes.iter().filter_map(|change| map.title_of_product(change.product_id)));
        let latest: HashMap<ProductId, ChangedTitle> =
            changes.into_iter().map(|change| (change.product_id, change)).collect();
        overlay.changes.retain(|earlier| !latest.contains_key(&earlier.product_id));
        overlay.changes.extend(latest.into_values());
        overlay
    }

    /// The part of this overlay that a map built after change `built_through` lacks.
    pub fn rebased(&self, map: &SuggestMap, built_through: u64) -> Self {
        let newer = self.changes.iter().filter(|change| change.change > built_through).cloned().collect();
        Self::default().with_changes(map, newer)
    }

    /// Whether the map's `title` is stale (its product changed since the map was built).
    pub(crate) fn hides(&self, title: TitleId) -> bool {
        self.hidden.contains(&title)
    }

    /// New titles (with their normalised form) not in the map yet.
    pub fn titles(&self) -> impl Iterator<Item = (&str, &str)> {
        self.changes
            .iter()
            .filter_map(|change| change.title.as_deref().map(|title| (title, change.normalised.as_str())))
    }

    /// Whether no change is pending.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::{ChangedTitle, Overlay};
    use crate::db::store::popularity::ProductPopularity;
    use crate::domain::ProductId;
    use crate::suggest::map::SuggestMap;

    fn map_with(titles: &[(i64, &str)]) -> SuggestMap {
        SuggestMap::build(
            titles
                .iter()
                .map(|&(id, title)| ProductPopularity {
                    product_id: ProductId(id),
                    title: title.to_owned(),
                    units_ordered: 0,
                    stock: 0,
                })
                .collect(),
        )
    }

    #[test]
    fn a_renamed_product_hides_its_old_title_and_offers_its_new_one() {
        let map = map_with(&[(1, "Old Kettle"), (2, "Toaster")]);
        let change = ChangedTitle::new(1, ProductId(1), Some("New Kettle".to_owned()));

        let overlay = Overlay::default().with_changes(&map, vec![change]);

        let old = map.title_of_product(ProductId(1)).expect("indexed");
        assert!(overlay.hides(old));
        assert_eq!(overlay.titles().collect::<Vec<_>>(), [("New Kettle", "new kettle")]);
    }

    #[test]
    fn only_the_latest_change_of_a_product_is_kept() {
        let map = map_with(&[(1, "Kettle")]);
        let first = ChangedTitle::new(1, ProductId(1), Some("Kettle Two".to_owned()));
        let second = ChangedTitle::new(2, ProductId(1), Some("Kettle Three".to_owned()));

        let overlay = Overlay::default().with_changes(&map, vec![first, second]);

        assert_eq!(overlay.titles().map(|(title, _)| title).collect::<Vec<_>>(), ["Kettle Three"]);
    }

    #[test]
    fn rebasing_drops_the_changes_the_new_map_includes() {
        let map = map_with(&[(1, "Kettle"), (2, "Toaster")]);
        let overlay = Overlay::default().with_changes(
            &map,
            vec![
                ChangedTitle::new(1, ProductId(1), Some("Kettle Two".to_owned())),
                ChangedTitle::new(2, ProductId(2), Some("Toaster Two".to_owned())),
            ],
        );
        let rebuilt = map_with(&[(1, "Kettle Two"), (2, "Toaster")]);

        let rebased = overlay.rebased(&rebuilt, 1);

        assert_eq!(rebased.titles().map(|(title, _)| title).collect::<Vec<_>>(), ["Toaster Two"]);
        assert!(!rebased.hides(rebuilt.title_of_product(ProductId(1)).expect("indexed")));
        assert!(rebased.hides(rebuilt.title_of_product(ProductId(2)).expect("indexed")));
    }
}
