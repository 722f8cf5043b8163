//! Which stem lists of a segment repeat an exact list posting for posting, remembered while
//! the segment lives.
//!
//! A word is searched in each field twice: its exact term (`kettle` in `title`) and its stem
//! (`kettl` in `title_stem`). Where the catalog only ever writes the word one way, the stem's
//! list holds the very same documents with the very same term frequencies, and (the norms
//! being shared, see `schema::norms_field`) it scores each document exactly as the exact list
//! does. Walking it again was a third of a one-word search at 1M products (six lists for
//! `kettle`, two of them such repeats). The walk folds such a list into its exact twin: one
//! pass over the postings, the two BM25 weights summed per document, so ranks are unchanged.
//!
//! Whether two lists are equal is a property of the segment alone (segments never change;
//! deletions are a separate bitset the walk applies anyway), so it is checked once, by reading
//! both lists, and remembered with the segment's decoded columns.

use std::collections::HashMap;
use std::sync::Mutex;

use tantivy::postings::{BlockSegmentPostings, TermInfo};
use tantivy::schema::IndexRecordOption;
use tantivy::{InvertedIndexReader, Term};

use crate::locking::lock;

/// One segment's answers, by the two lists' places: (field, start of its postings) for the
/// exact list then the stem list. A place names one list of the segment, and is copied
/// where a term would be cloned: this is asked on every search.
pub struct SameLists {
    known: Mutex<HashMap<[u64; 4], bool>>,
    /// False only in tests comparing the walk with and without folding.
    folds: bool,
}

impl Default for SameLists {
    fn default() -> Self {
        Self { known: Mutex::default(), folds: true }
    }
}

/// A list as the walk found it in a segment's dictionary.
pub struct ListRef<'a> {
    /// The inverted index of the list's field.
    pub inverted: &'a InvertedIndexReader,
    /// Its term.
    pub term: &'a Term,
    /// Where its postings are.
    pub info: &'a TermInfo,
}

impl SameLists {
    /// Whether `stem`'s list has exactly `exact`'s postings: the same documents with the same
    /// term frequencies. Read once per segment and pair, then remembered. Only pairs of equal
    /// document frequency are ever read or remembered, so what is kept is bounded by the
    /// segment's vocabulary, whatever the queries.
    pub fn same(&self, exact: &ListRef<'_>, stem: &ListRef<'_>) -> tantivy::Result<bool> {
        if !self.folds || exact.info.doc_freq != stem.info.doc_freq {
            return Ok(false);
        }
        let key = key(exact, stem);
        if let Some(&same) = lock(&self.known).get(&key) {
            return Ok(same);
        }
        let same = same_postings(exact, stem)?;
        lock(&self.known).insert(key, same);
        Ok(same)
    }
}

#[cfg(test)]
impl SameLists {
    /// Answers "not the same" to everything: the walk then reads every list.
    pub fn never() -> Self {
        Self { known: Mutex::default(), folds: false }
    }

    /// What was learnt of a pair, if it was asked about.
    pub fn remembered(&self, exact: &ListRef<'_>, stem: &ListRef<'_>) -> Option<bool> {
        lock(&self.known).get(&key(exact, stem)).copied()
    }
}

fn key(exact: &ListRef<'_>, stem: &ListRef<'_>) -> [u64; 4] {
    let place = |list: &ListRef<'_>| [u64::from(list.term.field().field_id()), list.info.postings_range.start as u64];
    let ([a, b], [c, d]) = (place(exact), place(stem));
    [a, b, c, d]
}

/// Compares two lists of equal document frequency block by block: equal lengths put their
/// block boundaries at the same postings.
fn same_postings(a: &ListRef<'_>, b: &ListRef<'_>) -> tantivy::Result<bool> {
    let open = |list: &ListRef<'_>| -> tantivy::Result<BlockSegmentPostings> {
        Ok(list.inverted.read_block_postings_from_terminfo(list.info, IndexRecordOption::WithFreqs)?)
    };
    let (mut a, mut b) = (open(a)?, open(b)?);
    loop {
        if a.docs() != b.docs() || a.freqs() != b.freqs() {
            return Ok(false);
        }
        if a.docs().is_empty() {
            return Ok(true);
        }
        a.advance();
        b.advance();
    }
}
