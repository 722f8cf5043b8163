//! The HTTP contract, tested through a real server on port 0 (one test binary for speed).

mod errors;
mod helpers;
mod orders;
mod seed;
mod stores;
mod suggest;
mod writer;
