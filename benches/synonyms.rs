//! Synonym expansion over 10,000 sets (issue goal: a 3-word query in at most 20 µs): the
//! in-memory lookups a search makes before touching the index, i.e. splitting the query into
//! runs (a multi-word entry is one unit), each word's entries by folded form and stem, and a
//! misspelt word's one best correction among the sets' entries.
//!
//! Run: `cargo bench --bench synonyms`.

use std::hint::black_box;

use aforro::domain::curation::SynonymSet;
use aforro::search::synonyms::Synonyms;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

/// 10,000 multi-way sets of 5 entries (one of them two words), words from a 26^4 alphabet
/// grid so they are distinct, plus the sets the queries meet.
fn sets() -> Vec<SynonymSet> {
    let word = |n: usize| -> String {
        let letters: Vec<char> =
            (0..5).map(|i| char::from(b'a' + u8::try_from((n / 26usize.pow(i)) % 26).unwrap_or(0))).collect();
        format!("w{}", letters.into_iter().collect::<String>())
    };
    let mut sets: Vec<SynonymSet> = (0..9_997)
        .map(|i| {
            let entries = vec![
                word(i * 5),
                word(i * 5 + 1),
                word(i * 5 + 2),
                word(i * 5 + 3),
                format!("{} {}", word(i * 5 + 4), word(i * 5)),
            ];
            SynonymSet::parse(&format!("set{i:05}"), &json!({ "synonyms": entries })).expect("a valid set")
        })
        .collect();
    for (name, body) in [
        ("knitwear", json!({"synonyms": ["sweater", "jumper", "pullover"]})),
        ("trainers", json!({"root": "trainers", "synonyms": ["sneakers", "running shoes"]})),
        ("colours", json!({"synonyms": ["red", "crimson", "scarlet"]})),
    ] {
        sets.push(SynonymSet::parse(name, &body).expect("a valid set"));
    }
    sets
}

fn bench_expansion(c: &mut Criterion) {
    let synonyms = Synonyms::build(&sets());
    assert_eq!(synonyms.sets(), 10_000);
    let exact: Vec<String> = ["red", "wool", "jumper"].map(str::to_owned).to_vec();
    let stems: Vec<String> = ["red", "wool", "jumper"].map(str::to_owned).to_vec();
    c.bench_function("synonyms/3 words, 10k sets", |b| {
        b.iter(|| black_box(synonyms.units(black_box(&exact), |at| stems[at].clone())));
    });
    // The worst case a search makes: no word is a key, each looked up, and the misspelt one
    // corrected against every single-word entry of the 10,000 sets.
    let misspelt: Vec<String> = ["cheap", "running", "jumpr"].map(str::to_owned).to_vec();
    c.bench_function("synonyms/3 words with a correction, 10k sets", |b| {
        b.iter(|| {
            let units = synonyms.units(black_box(&misspelt), |at| misspelt[at].clone());
            black_box((units, synonyms.nearest(black_box("jumpr"))))
        });
    });
}

criterion_group!(benches, bench_expansion);
criterion_main!(benches);
