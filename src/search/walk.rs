//! Matching and ranking a search with words, straight on the posting lists, segment by
//! segment: a document matches when every required word matches one of its alternatives
//! (AND), and its score is its packed rank (see `rank`).
//!
//! Why not a tantivy `Query`: a scorer hands the collector one document at a time through
//! two dynamic calls, each word kept its lists in a heap, and the collector read the fast
//! fields one dynamic call per column and document. At 1M products that overhead, not the
//! postings, was most of a one-word search (perf on the bench: see `docs/search.md`). Here:
//!
//! - the **rarest required word drives**: its lists (at most 3 × [`MAX_EXPANSIONS`] per
//!   expansion kind) are walked a window of `WINDOW` documents at a time into a bitset,
//!   with each document's best class and BM25 sum accumulated on the way (one pass over each
//!   list, however many lists: a two-letter prefix brings close to 200), a decoded block of
//!   postings at a time;
//! - every **other word** is asked only about the driver's documents, by seeking its lists
//!   (forward only, so a list is read at most once); an unscored search stops at the first
//!   list that has the document;
//! - **optional words** (dropped by relaxation) never decide a match; a document having them
//!   still ranks higher ("more words matched"), so they are only looked at when ranking;
//! - the window's matches go to the collector **in one block**: one batched read per
//!   fast-field column, then the filters, the count, the facets and the page; a walk the
//!   match cache asks for also keeps them, to be replayed for the same words (`word_matches`).
//!
//! The BM25 of each list is tantivy's own (`Bm25Weight` from the searcher's statistics, the
//! field's norms; a stem field's are its exact field's, see `schema::norms_field`), summed in
//! the order tantivy's scorers were, so ranks are unchanged. A stem list that repeats its exact
//! list posting for posting is folded into it (see `same_lists`): read once, both weights
//! still added in that order.
//!
//! [`MAX_EXPANSIONS`]: super::query::MAX_EXPANSIONS

use std::slice;
use std::sync::Arc;

use tantivy::InvertedIndexReader;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::{BlockSegmentPostings, Postings, SegmentPostings, TermInfo};
use tantivy::query::Bm25Weight;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED, Term};

use super::collector::{Matches, SearchCollector, SegmentSearch};
use super::expand::{Exactness, MatchClass, WordMatch};
use super::rank::DocRank;
use super::same_lists::{ListRef, SameLists};
use super::schema::norms_field;
use super::walked_matches::{SegmentMatches, WINDOW, WordMatches};

/// `u64` words of a window's bitset.
const WINDOW_WORDS: usize = (WINDOW / 64) as usize;
/// No class yet (greater than every [`MatchClass::code`]).
const NO_CLASS: u8 = u8::MAX;

/// The words of a search with the BM25 weight of each alternative, computed once per search
/// from the searcher's statistics, as tantivy's `TermQuery` does.
pub struct WordsQuery {
    /// Per word, its alternatives.
    words: Vec<Vec<AlternativeWeight>>,
    /// Per word, its phrases (multi-word synonyms, or its own words when it is a run).
    phrases: Vec<Vec<PhraseTerms>>,
    /// Documents of these products never match (the search rules' hides and, under
    /// relevance, their pins, which take their places apart).
    excluded: Vec<Term>,
    /// The first `required` words must match.
    required: usize,
    scoring: bool,
}

/// A phrase's words, each with the terms (and classes) it may match.
struct PhraseTerms {
    words: Vec<Vec<(Term, MatchClass)>>,
    typos: u8,
    synonym: bool,
}

struct AlternativeWeight {
    term: Term,
    /// Whose norms score it (see [`norms_field`]).
    norms: Field,
    class: MatchClass,
    /// Only when scoring.
    bm25: Option<Bm25Weight>,
}

impl WordsQuery {
    /// `None` when no word is required (then nothing would restrict the match).
    pub fn new(
        searcher: &Searcher,
        words: &[WordMatch],
        required: usize,
        scoring: bool,
    ) -> tantivy::Result<Option<Self>> {
        Self::of(searcher, words, required, scoring)
    }

    /// Like [`new`](Self::new), from words held anywhere (relaxation tries subsets of a
    /// query's words).
    pub fn of<'a>(
        searcher: &Searcher,
        words: impl IntoIterator<Item = &'a WordMatch>,
        required: usize,
        scoring: bool,
    ) -> tantivy::Result<Option<Self>> {
        let words: Vec<&WordMatch> = words.into_iter().collect();
        if required == 0 || required > words.len() {
            return Ok(None);
        }
        let schema = searcher.schema();
        let phrases = words
            .iter()
            .map(|word| {
                word.phrases
                    .iter()
                    .map(|phrase| PhraseTerms {
                        words: phrase
                            .words
                            .iter()
                            .map(|word| word.alternatives.iter().map(|a| (a.term.clone(), a.class)).collect())
                            .collect(),
                        typos: phrase.typos,
                        synonym: phrase.synonym,
                    })
                    .collect()
            })
            .collect();
        let words = words
            .iter()
            .map(|word| {
                word.alternatives
                    .iter()
                    .map(|alternative| {
                        let bm25 = scoring
                            .then(|| Bm25Weight::for_terms(searcher, slice::from_ref(&alternative.term)))
                            .transpose()?;
                        let norms = norms_field(schema, alternative.term.field());
                        Ok(AlternativeWeight { term: alternative.term.clone(), norms, class: alternative.class, bm25 })
                    })
                    .collect::<tantivy::Result<Vec<_>>>()
            })
            .collect::<tantivy::Result<Vec<_>>>()?;
        Ok(Some(Self { words, phrases, excluded: Vec::new(), required, scoring }))
    }

    /// The same query, never matching the documents of `excluded` (`id` field terms).
    pub fn excluding(mut self, excluded: Vec<Term>) -> Self {
        self.excluded = excluded;
        self
    }

    /// Runs the search through `collector`: its filters, count, facets and page.
    pub fn collect(&self, searcher: &Searcher, collector: &SearchCollector) -> tantivy::Result<Matches> {
        self.collect_recording(searcher, collector, None)
    }

    /// Like [`collect`](Self::collect), also keeping every match (before the collector's
    /// filters) in `record`, to be replayed by [`WordMatches::collect`], and counting the
    /// postings the walk read from its driving word's lists.
    pub fn collect_recording(
        &self,
        searcher: &Searcher,
        collector: &SearchCollector,
        mut record: Option<&mut WordMatches>,
    ) -> tantivy::Result<Matches> {
        let mut fruits = Vec::with_capacity(searcher.segment_readers().len());
        for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
            let ordinal = SegmentOrdinal::try_from(ordinal).unwrap_or(SegmentOrdinal::MAX);
            let mut segment = collector.for_segment(ordinal, reader)?;
            let mut recorded = record.is_some().then(|| SegmentMatches::new(self.scoring));
            let walked =
                self.walk_segment(reader, &mut segment, &collector.columns.same_lists(reader), recorded.as_mut())?;
            if let (Some(record), Some(recorded)) = (record.as_deref_mut(), recorded) {
                record.segments.push(recorded);
                record.walked_postings += u64::from(walked);
            }
            fruits.push(segment.harvest());
        }
        collector.merge_fruits(fruits)
    }

    /// Whether any document matches and passes `collector`'s filters: relaxation's test of
    /// a set of words. Walks unscored and stops at the first window with such a match, so
    /// a try that finds something early costs a window, and one that finds nothing costs a
    /// walk of its rarest word without ranks, facets or a page.
    pub fn any(&self, searcher: &Searcher, collector: &SearchCollector) -> tantivy::Result<bool> {
        for (ordinal, reader) in searcher.segment_readers().iter().enumerate() {
            let ordinal = SegmentOrdinal::try_from(ordinal).unwrap_or(SegmentOrdinal::MAX);
            let mut segment = collector.for_segment(ordinal, reader)?;
            let same_lists = collector.columns.same_lists(reader);
            self.walk_segment_until(reader, &mut segment, &same_lists, None, true)?;
            if segment.has_matches() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn walk_segment(
        &self,
        reader: &SegmentReader,
        segment: &mut SegmentSearch,
        same_lists: &SameLists,
        record: Option<&mut SegmentMatches>,
    ) -> tantivy::Result<u32> {
        self.walk_segment_until(reader, segment, same_lists, record, false)
    }

    /// Walks one segment into `segment`; with `first_match`, only until a window gives it a
    /// match.
    fn walk_segment_until(
        &self,
        reader: &SegmentReader,
        segment: &mut SegmentSearch,
        same_lists: &SameLists,
        mut record: Option<&mut SegmentMatches>,
        first_match: bool,
    ) -> tantivy::Result<u32> {
        let mut words = Vec::with_capacity(self.words.len());
        for (alternatives, phrases) in self.words.iter().zip(&self.phrases) {
            words.push(FoundWord::look_up(reader, alternatives, phrases, same_lists)?);
        }
        let mut optional = words.split_off(self.required);
        let mut required = words;
        if required.iter().any(|word| word.lists.is_empty() && word.listed.is_empty()) {
            return Ok(0);
        }
        let excluded = excluded_docs(reader, &self.excluded)?;
        // The rarest word drives: fewest candidates to check. A stable sort, so ranks sum the
        // words in the order they always did.
        required.sort_by_key(|word| word.size_hint);
        let driver_postings = required[0].size_hint;
        if !self.scoring {
            optional.clear(); // they only rank
        }
        let open = |(i, word): (usize, FoundWord<'_>)| {
            let walked = word.walked(i == 0);
            WordPostings::open(reader, word, self.scoring, walked)
        };
        let required = required.into_iter().enumerate().map(open).collect::<tantivy::Result<Vec<_>>>()?;
        // An optional word never drives (index 1 and up).
        let optional = optional.into_iter().map(|word| (1, word)).map(open).collect::<tantivy::Result<Vec<_>>>()?;
        let mut walk = Walk {
            required,
            optional,
            scoring: self.scoring,
            alive: reader.alive_bitset().cloned(),
            excluded,
            docs: Vec::new(),
            scores: Vec::new(),
        };
        let mut start = walk.required[0].first_doc();
        while start != TERMINATED {
            let window_start = start - start % WINDOW;
            walk.window(window_start);
            if let Some(record) = record.as_deref_mut() {
                record.extend(&walk.docs, &walk.scores);
            }
            if self.scoring {
                segment.collect_scored_block(&walk.docs, &walk.scores);
            } else {
                segment.collect_block(&walk.docs);
            }
            if first_match && segment.has_matches() {
                break;
            }
            start = walk.required[0].first_doc();
        }
        Ok(driver_postings)
    }
}

/// A window of one word: which documents it has, and on each its best class (as a
/// [`MatchClass::code`]) and BM25 sum.
struct Window {
    bits: [u64; WINDOW_WORDS],
    classes: Vec<u8>,
    bm25: Vec<f32>,
}

impl Window {
    fn new() -> Box<Self> {
        Box::new(Self {
            bits: [0; WINDOW_WORDS],
            classes: vec![NO_CLASS; WINDOW as usize],
            bm25: vec![0.0; WINDOW as usize],
        })
    }

    fn has(&self, offset: usize) -> bool {
        self.bits[offset / 64] & (1 << (offset % 64)) != 0
    }

    /// Empties the window, resetting only the slots in use.
    fn clear(&mut self) {
        for slot in 0..WINDOW_WORDS {
            let mut bits = std::mem::take(&mut self.bits[slot]);
            while bits != 0 {
                let offset = slot * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                self.classes[offset] = NO_CLASS;
                self.bm25[offset] = 0.0;
            }
        }
    }
}

/// One segment's walk: its words and the current window's matches.
struct Walk {
    /// Rarest first: the first drives.
    required: Vec<WordPostings>,
    /// Only kept when scoring.
    optional: Vec<WordPostings>,
    scoring: bool,
    alive: Option<tantivy::fastfield::AliveBitSet>,
    /// Documents that never match here, ascending (see [`WordsQuery::excluding`]).
    excluded: Vec<DocId>,
    /// The window's matches, ascending, and their packed ranks (when scoring).
    docs: Vec<DocId>,
    scores: Vec<Score>,
}

impl Walk {
    /// Finds the matches in `[window_start, window_start + WINDOW)`: the driver's documents
    /// that every other required word has, with their ranks.
    fn window(&mut self, window_start: DocId) {
        self.docs.clear();
        self.scores.clear();
        let window_end = window_start.saturating_add(WINDOW);
        for word in self.required.iter_mut().chain(&mut self.optional) {
            word.fill(window_start, window_end, self.scoring);
        }
        let (driver, others) = self.required.split_first_mut().map_or((None, None), |(d, o)| (Some(d), Some(o)));
        let (Some(driver), Some(others)) = (driver, others) else {
            return;
        };
        let Some(window) = driver.window.as_mut() else {
            return;
        };
        for slot in 0..WINDOW_WORDS {
            let mut bits = std::mem::take(&mut window.bits[slot]);
            while bits != 0 {
                let offset = slot * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let class = std::mem::replace(&mut window.classes[offset], NO_CLASS);
                let bm25 = std::mem::replace(&mut window.bm25[offset], 0.0);
                // The window is WINDOW documents long: the offset fits a DocId.
                let doc = window_start + u32::try_from(offset).unwrap_or(u32::MAX);
                if self.alive.as_ref().is_some_and(|alive| alive.is_deleted(doc))
                    || (!self.excluded.is_empty() && self.excluded.binary_search(&doc).is_ok())
                {
                    continue;
                }
                let mut rank = DocRank::default();
                rank.add_word(MatchClass::from_code(class), bm25);
                if !others_match(others, doc, offset, &mut rank, self.scoring) {
                    continue;
                }
                self.docs.push(doc);
                if self.scoring {
                    for word in &mut self.optional {
                        if let Some((class, bm25)) = word.on(doc, offset, true) {
                            rank.add_word(class, bm25);
                        }
                    }
                    self.scores.push(rank.pack());
                }
            }
        }
        for word in others.iter_mut().chain(&mut self.optional) {
            if let Some(window) = word.window.as_mut() {
                window.clear();
            }
        }
    }
}

fn others_match(others: &mut [WordPostings], doc: DocId, offset: usize, rank: &mut DocRank, scoring: bool) -> bool {
    for word in others {
        match word.on(doc, offset, scoring) {
            Some((class, bm25)) => rank.add_word(class, bm25),
            None => return false,
        }
    }
    true
}

/// One word in one segment: the posting list of each of its alternatives present there.
struct WordPostings {
    alternatives: Vec<AlternativePostings>,
    /// Set when the word's lists are walked a window at a time (the driver, and words of
    /// more than [`MAX_SOUGHT_LISTS`] lists); otherwise each document is sought.
    window: Option<Box<Window>>,
}

/// A word with more lists than this is walked a window at a time even when it does not
/// drive: seeking each candidate in ~200 lists (a two-letter prefix) costs more than one
/// pass over them.
const MAX_SOUGHT_LISTS: usize = 8;

/// A word's lists in one segment, looked up but not yet opened: enough to choose which
/// word drives and how each is read.
struct FoundWord<'a> {
    lists: Vec<FoundList<'a>>,
    /// Its phrases' documents here, each with its class code on each (see [`phrase_docs`]).
    listed: Vec<Vec<(DocId, u8)>>,
    /// Documents summed over the lists (an upper bound of the word's documents).
    size_hint: u32,
}

struct FoundList<'a> {
    inverted: Arc<InvertedIndexReader>,
    info: TermInfo,
    alternative: &'a AlternativeWeight,
    /// A stem list with exactly this list's postings, walked as part of it: its BM25 is
    /// added to each of this list's documents (see `same_lists`).
    folded: Option<&'a AlternativeWeight>,
}

impl<'a> FoundWord<'a> {
    fn look_up(
        reader: &SegmentReader,
        alternatives: &'a [AlternativeWeight],
        phrases: &[PhraseTerms],
        same_lists: &SameLists,
    ) -> tantivy::Result<Self> {
        let mut lists: Vec<FoundList<'a>> = Vec::with_capacity(alternatives.len());
        for alternative in alternatives {
            let inverted = reader.inverted_index(alternative.term.field())?;
            let Some(info) = inverted.get_term_info(&alternative.term)? else {
                continue;
            };
            if info.doc_freq == 0 {
                continue;
            }
            // The exact twin comes first in a word's alternatives (see `expand`).
            if let Some(twin) = lists.iter_mut().find(|list| list.is_exact_twin_of(alternative)) {
                let exact = ListRef { inverted: &twin.inverted, term: &twin.alternative.term, info: &twin.info };
                let stem = ListRef { inverted: &inverted, term: &alternative.term, info: &info };
                if same_lists.same(&exact, &stem)? {
                    twin.folded = Some(alternative);
                    continue;
                }
            }
            lists.push(FoundList { inverted, info, alternative, folded: None });
        }
        let mut listed = Vec::with_capacity(phrases.len());
        for phrase in phrases {
            let docs = phrase_docs(reader, phrase)?;
            if !docs.is_empty() {
                listed.push(docs);
            }
        }
        let size_hint = lists.iter().fold(0u32, |sum, list| sum.saturating_add(list.info.doc_freq));
        let size_hint = listed.iter().fold(size_hint, |sum, docs| sum.saturating_add(len_u32(docs.len())));
        Ok(Self { lists, listed, size_hint })
    }

    /// Whether the word's lists are walked a window at a time rather than sought.
    fn walked(&self, drives: bool) -> bool {
        drives || self.lists.len() > MAX_SOUGHT_LISTS
    }
}

fn len_u32(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// The documents of `reader` having every word of `phrase` (each through any of its terms),
/// ascending, each with its class: the worst of its words' best classes, ranked as a synonym
/// (with the correction's typos) when the phrase is one. Read whole from the postings: a
/// phrase is a handful of specific words, and this runs only for queries that have one.
fn phrase_docs(reader: &SegmentReader, phrase: &PhraseTerms) -> tantivy::Result<Vec<(DocId, u8)>> {
    let mut docs: Option<Vec<(DocId, u8)>> = None;
    for terms in &phrase.words {
        let mut word: Vec<(DocId, u8)> = Vec::new();
        for (term, class) in terms {
            let inverted = reader.inverted_index(term.field())?;
            let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? else {
                continue;
            };
            let code = class.code();
            while postings.doc() != TERMINATED {
                word.push((postings.doc(), code));
                postings.advance();
            }
        }
        word.sort_unstable();
        word.dedup_by_key(|(doc, _)| *doc); // sorted by code within a doc: the best is kept
        docs = Some(match docs {
            None => word,
            Some(before) => {
                let mut both = Vec::with_capacity(before.len().min(word.len()));
                let mut other = word.iter().peekable();
                for (doc, code) in before {
                    while other.next_if(|(next, _)| *next < doc).is_some() {}
                    if let Some((_, found)) = other.next_if(|(next, _)| *next == doc) {
                        both.push((doc, code.max(*found)));
                    }
                }
                both
            }
        });
    }
    let mut docs = docs.unwrap_or_default();
    if phrase.synonym || phrase.typos > 0 {
        for (_, code) in &mut docs {
            let class = MatchClass::from_code(*code);
            let exactness = if phrase.synonym { Exactness::Synonym } else { class.exactness };
            *code = MatchClass { typos: class.typos.max(phrase.typos), exactness, field: class.field }.code();
        }
    }
    Ok(docs)
}

/// The documents of the products whose `id` terms are `excluded`, in `reader`, ascending.
fn excluded_docs(reader: &SegmentReader, excluded: &[Term]) -> tantivy::Result<Vec<DocId>> {
    let mut docs = Vec::new();
    for term in excluded {
        let inverted = reader.inverted_index(term.field())?;
        if let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? {
            while postings.doc() != TERMINATED {
                docs.push(postings.doc());
                postings.advance();
            }
        }
    }
    docs.sort_unstable();
    Ok(docs)
}

struct AlternativePostings {
    cursor: Cursor,
    score: ListScore,
    class: MatchClass,
    code: u8,
}

/// Where a list is read.
// A few per search: boxing the walked one too would save nothing that matters.
#[allow(clippy::large_enum_variant)]
enum Cursor {
    /// Document by document, seeking the documents asked about.
    Sought(Box<SegmentPostings>),
    /// A block of postings at a time, straight from its decoded arrays: the walk of a window
    /// keeps its position in a register instead of going through `SegmentPostings`' cursor
    /// and bounds checks for every posting.
    Walked(WalkedList),
    /// A phrase's documents, read whole beforehand, each with its own class code.
    Listed { docs: Vec<(DocId, u8)>, next: usize },
}

struct WalkedList {
    block: BlockSegmentPostings,
    /// The next posting's index in the current block.
    next: usize,
}

impl WalkedList {
    fn new(block: BlockSegmentPostings) -> Self {
        let mut list = Self { block, next: 0 };
        list.settle();
        list
    }

    /// The document of the next posting ([`TERMINATED`] when the list is done).
    fn doc(&self) -> DocId {
        self.block.docs().get(self.next).copied().unwrap_or(TERMINATED)
    }

    /// Moves to the first posting at or after `target`.
    fn seek(&mut self, target: DocId) {
        if self.doc() < target {
            self.next = self.block.seek(target);
            self.settle();
        }
    }

    /// Past the end of a block, moves to the next one (an empty block: the list is done).
    fn settle(&mut self) {
        while self.next >= self.block.docs().len() && !self.block.docs().is_empty() {
            self.block.advance();
            self.next = 0;
        }
    }
}

/// How one list scores a document.
struct ListScore {
    fieldnorms: FieldNormReader,
    /// With the field's boost applied after it, as the rank always did.
    bm25: Option<Bm25Weight>,
    /// A folded stem list's weight (same postings, same boost), added to `bm25`'s score.
    folded: Option<Bm25Weight>,
    boost: f32,
    /// For long lists, when scoring: see [`ListScore::at_one`].
    scores_at_one: Option<Box<[PostingScore; 256]>>,
}

/// A list of at least this many documents gets a table of its scores at term frequency 1.
const MIN_DOCS_FOR_A_SCORE_TABLE: u32 = 1024;

/// A posting's score: its own list's, then the folded stem list's (0 when none). Added to a
/// document's BM25 one after the other, as the two lists' scores were before they were
/// folded, so the sums, and the ranks, are the same to the bit.
type PostingScore = (f32, f32);

impl ListScore {
    #[inline(always)]
    fn score(&self, doc: DocId, term_freq: u32) -> PostingScore {
        let fieldnorm_id = self.fieldnorms.fieldnorm_id(doc);
        if term_freq == 1
            && let Some(table) = &self.scores_at_one
        {
            return table[usize::from(fieldnorm_id)];
        }
        self.computed(fieldnorm_id, term_freq)
    }

    /// The score of a posting, from its norm and term frequency, each weight boosted.
    #[inline(always)]
    fn computed(&self, fieldnorm_id: u8, term_freq: u32) -> PostingScore {
        let boosted = |bm25: &Bm25Weight| bm25.score(fieldnorm_id, term_freq) * self.boost;
        (self.bm25.as_ref().map_or(0.0, boosted), self.folded.as_ref().map_or(0.0, boosted))
    }

    /// The scores at term frequency 1 (most words occur once in a product's field), by norm:
    /// computed once per norm instead of once per document (a division each, a fifth of a
    /// one-word search).
    fn at_one(&self) -> Box<[PostingScore; 256]> {
        let mut table = Box::new([(0.0, 0.0); 256]);
        for (fieldnorm_id, score) in (0..=u8::MAX).zip(table.iter_mut()) {
            *score = self.computed(fieldnorm_id, 1);
        }
        table
    }
}

impl FoundList<'_> {
    /// Whether this is the exact list of which `stem` is the stem list: the same word's
    /// exact term in the field whose norms the stem list reads, with no typo.
    fn is_exact_twin_of(&self, stem: &AlternativeWeight) -> bool {
        let (exact, stem_class) = (self.alternative, stem.class);
        stem_class.exactness == Exactness::Stem
            && stem_class.typos == 0
            && self.folded.is_none()
            && exact.class == MatchClass { exactness: Exactness::Exact, ..stem_class }
            && exact.term.field() == stem.norms
    }
}

impl WordPostings {
    fn open(reader: &SegmentReader, found: FoundWord<'_>, scoring: bool, walked: bool) -> tantivy::Result<Self> {
        let record = if scoring { IndexRecordOption::WithFreqs } else { IndexRecordOption::Basic };
        let mut opened = Vec::with_capacity(found.lists.len() + found.listed.len());
        for docs in found.listed {
            // A phrase adds no BM25: its words' weights belong to other queries' statistics.
            let score = ListScore {
                fieldnorms: FieldNormReader::constant(reader.max_doc(), 1),
                bm25: None,
                folded: None,
                boost: 1.0,
                scores_at_one: None,
            };
            let class = MatchClass::from_code(docs.first().map_or(NO_CLASS, |(_, code)| *code));
            opened.push(AlternativePostings {
                cursor: Cursor::Listed { docs, next: 0 },
                score,
                class,
                code: class.code(),
            });
        }
        for FoundList { inverted, info, alternative, folded } in found.lists {
            let cursor = if walked {
                Cursor::Walked(WalkedList::new(inverted.read_block_postings_from_terminfo(&info, record)?))
            } else {
                Cursor::Sought(Box::new(inverted.read_postings_from_terminfo(&info, record)?))
            };
            let fieldnorms = match reader.fieldnorms_readers().get_field(alternative.norms)? {
                Some(fieldnorms) if scoring => fieldnorms,
                _ => FieldNormReader::constant(reader.max_doc(), 1),
            };
            let mut score = ListScore {
                fieldnorms,
                bm25: alternative.bm25.clone(),
                folded: folded.and_then(|folded| folded.bm25.clone()),
                boost: alternative.class.field.boost(),
                scores_at_one: None,
            };
            if score.bm25.is_some() && info.doc_freq >= MIN_DOCS_FOR_A_SCORE_TABLE {
                score.scores_at_one = Some(score.at_one());
            }
            opened.push(AlternativePostings {
                cursor,
                score,
                class: alternative.class,
                code: alternative.class.code(),
            });
        }
        let window = walked.then(Window::new);
        Ok(Self { alternatives: opened, window })
    }

    /// The smallest document any list is on ([`TERMINATED`] when all are done).
    fn first_doc(&self) -> DocId {
        let doc = |alternative: &AlternativePostings| match &alternative.cursor {
            Cursor::Sought(postings) => postings.doc(),
            Cursor::Walked(list) => list.doc(),
            Cursor::Listed { docs, next } => docs.get(*next).map_or(TERMINATED, |(doc, _)| *doc),
        };
        self.alternatives.iter().map(doc).min().unwrap_or(TERMINATED)
    }

    /// Walks every list over `[window_start, window_end)` into the word's window, if it has
    /// one (the driver always does): one pass over each list, in the order of the
    /// alternatives, so each document's BM25 is summed in that order.
    fn fill(&mut self, window_start: DocId, window_end: DocId, scoring: bool) {
        let Some(window) = self.window.as_mut() else {
            return;
        };
        for alternative in &mut self.alternatives {
            if let Cursor::Listed { docs, next } = &mut alternative.cursor {
                *next += docs[*next..].partition_point(|(doc, _)| *doc < window_start);
                while let Some(&(doc, code)) = docs.get(*next)
                    && doc < window_end
                {
                    let offset = (doc - window_start) as usize;
                    window.bits[offset / 64] |= 1 << (offset % 64);
                    window.classes[offset] = window.classes[offset].min(code);
                    *next += 1;
                }
                continue;
            }
            let Cursor::Walked(list) = &mut alternative.cursor else {
                continue;
            };
            let folds = alternative.score.folded.is_some();
            list.seek(window_start);
            loop {
                let docs = list.block.docs();
                if docs.is_empty() {
                    break; // the list is done
                }
                // Freqs are decoded only when scoring.
                let freqs = if scoring { list.block.freqs() } else { &[] };
                let mut next = list.next;
                while let Some(&doc) = docs.get(next)
                    && doc < window_end
                {
                    let offset = (doc - window_start) as usize;
                    window.bits[offset / 64] |= 1 << (offset % 64);
                    let class = &mut window.classes[offset];
                    *class = (*class).min(alternative.code);
                    if scoring {
                        let term_freq = freqs.get(next).copied().unwrap_or(1);
                        let (own, folded) = alternative.score.score(doc, term_freq);
                        window.bm25[offset] += own;
                        if folds {
                            window.bm25[offset] += folded;
                        }
                    }
                    next += 1;
                }
                list.next = next;
                if next < docs.len() {
                    break; // the window's end
                }
                list.settle();
            }
        }
    }

    /// Whether the word is on `doc` (at `offset` in the current window) and, if so, its best
    /// class there and its BM25 summed over its lists on `doc`. Sought words' lists only
    /// move forward: `doc` must not go backwards between calls. Unscored, a sought word
    /// stops at the first list that has the document.
    #[inline]
    fn on(&mut self, doc: DocId, offset: usize, scoring: bool) -> Option<(MatchClass, f32)> {
        if let Some(window) = &self.window {
            return window.has(offset).then(|| (MatchClass::from_code(window.classes[offset]), window.bm25[offset]));
        }
        let mut best: Option<MatchClass> = None;
        let mut bm25 = 0.0;
        for alternative in &mut self.alternatives {
            if let Cursor::Listed { docs, next } = &mut alternative.cursor {
                *next += docs[*next..].partition_point(|(listed, _)| *listed < doc);
                if let Some(&(listed, code)) = docs.get(*next)
                    && listed == doc
                {
                    let class = MatchClass::from_code(code);
                    best = Some(best.map_or(class, |best| best.min(class)));
                    if !scoring {
                        return best.map(|class| (class, 0.0));
                    }
                }
                continue;
            }
            let Cursor::Sought(postings) = &mut alternative.cursor else {
                continue;
            };
            if postings.doc() < doc {
                postings.seek(doc);
            }
            if postings.doc() == doc {
                best = Some(best.map_or(alternative.class, |best| best.min(alternative.class)));
                if !scoring {
                    return best.map(|class| (class, 0.0));
                }
                let (own, folded) = alternative.score.score(doc, postings.term_freq());
                bm25 += own;
                bm25 += folded;
            }
        }
        best.map(|class| (class, bm25))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use tantivy::Index;

    use super::*;
    use crate::db::store::view_rows::ProductRow;
    use crate::search::collector::{MatchFilter, StockCondition, StockFirst};
    use crate::search::columns::FastColumns;
    use crate::search::expand::expand_words;
    use crate::search::request::SortOrder;
    use crate::search::schema::product_document;
    use crate::search::schema::{ProductFields, in_ram_index};

    /// Two-letter words have no typo budget and are their own stems, so a brute force only
    /// has to check that every word is there, the last one possibly as a prefix: `ab` is the
    /// prefix of nine more words, so as a last word it has more lists than are sought.
    const WORDS: [&str; 14] =
        ["ab", "cd", "ef", "gh", "ij", "ab1", "ab2", "ab3", "ab4", "ab5", "ab6", "ab7", "ab8", "ab9"];

    /// Three windows' worth of documents in two segments, every seventh product deleted.
    fn index(products: &[(String, String)]) -> (Index, ProductFields) {
        let (index, fields, mut writer) = in_ram_index();
        for (id, (title, description)) in products.iter().enumerate() {
            let id = i64::try_from(id).expect("small");
            let product =
                ProductRow { id, title, description, price_cents: id, category_id: 1, created_at: 0, category: "zz" };
            writer.add_document(product_document(&product, &fields)).expect("add");
            if id == 6_000 {
                writer.commit().expect("first segment");
            }
        }
        writer.commit().expect("second segment");
        for id in (0..products.len()).step_by(7) {
            writer.delete_term(Term::from_field_u64(fields.id, id as u64));
        }
        writer.commit().expect("deletes");
        (index, fields)
    }

    /// Deterministic pseudo-random texts of 1-4 words.
    fn products(count: usize) -> Vec<(String, String)> {
        let mut state = 12_345u64;
        let mut text = || {
            let mut words = Vec::new();
            for _ in 0..1 + state % 4 {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                let pick = usize::try_from(state >> 33).expect("small");
                // One word in eight is one of the longer `ab…` words.
                words.push(if pick % 8 == 0 { WORDS[5 + pick / 8 % 9] } else { WORDS[pick % 5] });
            }
            words.join(" ")
        };
        (0..count).map(|_| (text(), text())).collect()
    }

    fn found(index: &Index, fields: &ProductFields, query: &[&str], sort: SortOrder) -> (u64, Vec<u64>) {
        let searcher = index.reader().expect("reader").searcher();
        let words: Vec<String> = query.iter().map(|word| (*word).to_owned()).collect();
        let words = expand_words(&searcher, fields, &words).expect("expand");
        let scored = sort == SortOrder::Relevance;
        let collector = SearchCollector {
            filter: MatchFilter { category_id: None, price_cents: 0..=u64::MAX, stock: StockCondition::Unfiltered },
            sort,
            stock_first: StockFirst::Off,
            scored,
            top_n: usize::MAX,
            columns: Arc::new(FastColumns::refresh(&FastColumns::default(), &searcher).expect("columns")),
        };
        let query = WordsQuery::new(&searcher, &words, words.len(), scored).expect("weights").expect("words");
        let matches = query.collect(&searcher, &collector).expect("search");
        (matches.count, matches.top.iter().map(|hit| hit.product_id).collect())
    }

    /// Count and every hit's id and packed rank, best first, with or without folding.
    fn ranked(index: &Index, fields: &ProductFields, query: &[&str], folding: bool) -> (u64, Vec<(u64, u32)>) {
        let searcher = index.reader().expect("reader").searcher();
        let words: Vec<String> = query.iter().map(|word| (*word).to_owned()).collect();
        let words = expand_words(&searcher, fields, &words).expect("expand");
        let columns = FastColumns::refresh(&FastColumns::default(), &searcher).expect("columns");
        let collector = SearchCollector {
            filter: MatchFilter { category_id: None, price_cents: 0..=u64::MAX, stock: StockCondition::Unfiltered },
            sort: SortOrder::Relevance,
            stock_first: StockFirst::Off,
            scored: true,
            top_n: usize::MAX,
            columns: Arc::new(if folding { columns } else { columns.without_folding() }),
        };
        let query = WordsQuery::new(&searcher, &words, words.len(), true).expect("weights").expect("words");
        let matches = query.collect(&searcher, &collector).expect("search");
        (matches.count, matches.top.iter().map(|hit| (hit.product_id, hit.score.to_bits())).collect())
    }

    #[test]
    fn a_stem_list_repeating_its_exact_list_is_folded_into_it_and_every_rank_stays_the_same() {
        // `kettle` is only ever written so: its stem lists repeat its exact lists. `lamp` is
        // also written `lamps`: its stem lists hold more. Words repeat in some texts, so term
        // frequencies above 1 (scored without the table) are folded too.
        let texts = ["kettle", "steel kettle kettle", "lamp", "desk lamps", "lamp lamps kettle", "mug"];
        let products: Vec<(String, String)> = (0..3 * WINDOW as usize)
            .map(|i| (texts[i % texts.len()].to_owned(), texts[(i / 7 + i) % texts.len()].to_owned()))
            .collect();
        let (index, fields) = index(&products);
        for query in [&["kettle"][..], &["lamp"], &["kettle", "lamp"], &["lamp", "kettl"]] {
            let folded = ranked(&index, &fields, query, true);
            assert!(folded.0 > 100, "{query:?} finds too little to test");
            assert_eq!(folded, ranked(&index, &fields, query, false), "{query:?}");
        }
        let searcher = index.reader().expect("reader").searcher();
        let columns = FastColumns::refresh(&FastColumns::default(), &searcher).expect("columns");
        let segment = &searcher.segment_readers()[0];
        let same_lists = columns.same_lists(segment);
        let pair = |word: &str, stem: &str| {
            (Term::from_field_text(fields.title, word), Term::from_field_text(fields.title_stem, stem))
        };
        let (kettle, kettle_stem) = pair("kettle", "kettl");
        let (lamp, lamp_stem) = pair("lamp", "lamp");
        let list = |term: &Term| {
            let inverted = segment.inverted_index(term.field()).expect("inverted index");
            let info = inverted.get_term_info(term).expect("dictionary").expect("the term is there");
            (inverted, info)
        };
        for (exact, stem, same) in [(&kettle, &kettle_stem, true), (&lamp, &lamp_stem, false)] {
            let ((exact_index, exact_info), (stem_index, stem_info)) = (list(exact), list(stem));
            let exact_list = ListRef { inverted: &exact_index, term: exact, info: &exact_info };
            let stem_list = ListRef { inverted: &stem_index, term: stem, info: &stem_info };
            assert_eq!(same_lists.same(&exact_list, &stem_list).expect("read both lists"), same, "{exact:?}");
            // Only lists of equal length are read, and remembered.
            let remembered = same_lists.remembered(&exact_list, &stem_list);
            assert_eq!(remembered, Some(same).filter(|_| exact_info.doc_freq == stem_info.doc_freq));
        }
    }

    #[test]
    fn a_list_of_whole_blocks_ends_where_it_should() {
        // Lists of 128 postings per block: a last block that is full, or one posting short or
        // over, must end the walk exactly (neither lose postings nor run on).
        for len in [127, 128, 129, 256, 4_096] {
            let products: Vec<(String, String)> = (0..len).map(|_| ("ab".to_owned(), "cd".to_owned())).collect();
            let (index, fields, mut writer) = in_ram_index();
            for (id, (title, description)) in products.iter().enumerate() {
                let id = i64::try_from(id).expect("small");
                let product = ProductRow {
                    id,
                    title,
                    description,
                    price_cents: id,
                    category_id: 1,
                    created_at: 0,
                    category: "zz",
                };
                writer.add_document(product_document(&product, &fields)).expect("add");
            }
            writer.commit().expect("one segment");
            for sort in [SortOrder::Relevance, SortOrder::PriceAscending] {
                let (count, ids) = found(&index, &fields, &["ab"], sort);
                assert_eq!((count, ids.len()), (len as u64, len), "{len} postings, {sort:?}");
            }
        }
    }

    #[test]
    fn every_window_and_segment_finds_exactly_the_products_having_every_word() {
        let products = products(3 * WINDOW as usize + 100);
        let (index, fields) = index(&products);
        let queries = [&["ab"][..], &["cd", "ab"], &["ef", "gh", "ij"], &["ij", "ab", "cd", "ef"], &["gh", "ij", "ab"]];
        for query in queries {
            let (last, whole) = query.split_last().expect("a word");
            let expected: Vec<u64> = (0..products.len())
                .filter(|id| id % 7 != 0)
                .filter(|id| {
                    let (title, description) = &products[*id];
                    let words: BTreeSet<&str> = title.split(' ').chain(description.split(' ')).collect();
                    whole.iter().all(|word| words.contains(word)) && words.iter().any(|word| word.starts_with(last))
                })
                .map(|id| id as u64)
                .collect();
            assert!(expected.len() > 100, "{query:?} finds too little to test");
            let (count, by_price) = found(&index, &fields, query, SortOrder::PriceAscending);
            assert_eq!((count, &by_price), (expected.len() as u64, &expected), "{query:?}");
            let (count, by_rank) = found(&index, &fields, query, SortOrder::Relevance);
            let mut ranked_ids = by_rank.clone();
            ranked_ids.sort_unstable();
            assert_eq!((count, ranked_ids), (expected.len() as u64, expected), "{query:?}");
        }
    }
}
