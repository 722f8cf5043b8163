//! The HTTP contract, tested through a real server on port 0 (one test binary for speed).

mod cli;
mod crash;
mod errors;
mod helpers;
mod jobs;
mod maintenance;
mod orders;
mod queue_figures;
mod search;
mod search_brute_force;
mod search_index;
mod seed;
mod stores;
mod suggest;
mod webhook;
mod writer;
