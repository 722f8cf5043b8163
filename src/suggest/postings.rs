//! Walking posting lists best first: unions and intersections of sorted title-id lists that
//! stop as soon as enough titles are found.
//!
//! A match is an intersection of constraints ("contains `nordwind`", "has a word starting
//! with `ke`"), each constraint a union of posting lists. Lists are sorted ascending and ids are
//! ranks, so walking the intersection in ascending order yields the best titles first, and
//! galloping lets a sparse list skip over long runs of a dense one.

use super::map::TitleId;

/// A union of sorted lists with one cursor per list: `seek(target)` is the smallest id
/// ≥ `target` in any list. Targets must not decrease between calls.
pub(super) struct UnionCursor<'a> {
    lists: Vec<&'a [TitleId]>,
    positions: Vec<usize>,
}

impl<'a> UnionCursor<'a> {
    pub(super) fn new(lists: Vec<&'a [TitleId]>) -> Self {
        let positions = vec![0; lists.len()];
        Self { lists, positions }
    }

    /// How many postings the lists hold together (the union is at most this big).
    pub(super) fn total_len(&self) -> usize {
        self.lists.iter().map(|list| list.len()).sum()
    }

    pub(super) fn seek(&mut self, target: TitleId) -> Option<TitleId> {
        let mut smallest = None;
        for (list, position) in self.lists.iter().zip(&mut self.positions) {
            *position = gallop(list, *position, target);
            if let Some(&id) = list.get(*position) {
                smallest = Some(smallest.map_or(id, |current: TitleId| current.min(id)));
            }
        }
        smallest
    }
}

/// The first index ≥ `from` whose id is ≥ `target`: doubling steps, then a binary search in
/// the last step, so skipping `n` postings costs `O(log n)`.
fn gallop(list: &[TitleId], from: usize, target: TitleId) -> usize {
    let mut low = from;
    let mut step = 1;
    while low + step < list.len() && list[low + step] < target {
        low += step;
        step *= 2;
    }
    let high = (low + step + 1).min(list.len());
    low + list[low..high].partition_point(|&id| id < target)
}

/// Ids present in every constraint, ascending. The smallest constraint leads; the others are
/// sought to its candidates (leapfrogging when they are ahead).
pub(super) struct Intersection<'a> {
    constraints: Vec<UnionCursor<'a>>,
    next_target: TitleId,
    exhausted: bool,
}

impl<'a> Intersection<'a> {
    /// An intersection of `constraints`; empty when there are none.
    pub(super) fn new(mut constraints: Vec<UnionCursor<'a>>) -> Self {
        constraints.sort_by_key(UnionCursor::total_len);
        let exhausted = constraints.is_empty();
        Self { constraints, next_target: 0, exhausted }
    }
}

impl Iterator for Intersection<'_> {
    type Item = TitleId;

    fn next(&mut self) -> Option<TitleId> {
        if self.exhausted {
            return None;
        }
        let mut candidate = self.next_target;
        'search: loop {
            for constraint in &mut self.constraints {
                let Some(found) = constraint.seek(candidate) else {
                    self.exhausted = true;
                    return None;
                };
                if found != candidate {
                    candidate = found; // this constraint is ahead: every other must reach it
                    continue 'search;
                }
            }
            match candidate.checked_add(1) {
                Some(next) => self.next_target = next,
                None => self.exhausted = true,
            }
            return Some(candidate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Intersection, UnionCursor, gallop};

    #[test]
    fn gallop_finds_the_first_id_not_below_the_target() {
        let list = [1, 3, 5, 7, 9, 11, 13];
        assert_eq!(gallop(&list, 0, 0), 0);
        assert_eq!(gallop(&list, 0, 6), 3);
        assert_eq!(gallop(&list, 3, 13), 6);
        assert_eq!(gallop(&list, 2, 14), 7);
    }

    #[test]
    fn a_union_merges_lists_without_duplicates() {
        let (a, b) = ([1, 4, 9], [2, 4, 10]);
        let ids: Vec<_> = Intersection::new(vec![UnionCursor::new(vec![&a, &b])]).collect();
        assert_eq!(ids, [1, 2, 4, 9, 10]);
    }

    #[test]
    fn an_intersection_keeps_ids_in_every_constraint() {
        let (a, b) = ([1, 2, 3, 5, 8, 13, 21], [2, 3, 5, 7, 11, 13]);
        let (c_low, c_high) = ([5], [13]);
        let constraints =
            vec![UnionCursor::new(vec![&a]), UnionCursor::new(vec![&b]), UnionCursor::new(vec![&c_low, &c_high])];
        assert_eq!(Intersection::new(constraints).collect::<Vec<_>>(), [5, 13]);
    }

    #[test]
    fn an_intersection_with_an_empty_constraint_is_empty() {
        let a = [1, 2];
        let constraints = vec![UnionCursor::new(vec![&a]), UnionCursor::new(vec![])];
        assert_eq!(Intersection::new(constraints).count(), 0);
        assert_eq!(Intersection::new(vec![]).count(), 0);
    }
}
