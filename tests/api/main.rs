//! The HTTP contract, tested through a real server on port 0 (one test binary for speed).

mod admin_auth;
mod admin_browser;
mod admin_catalog;
mod admin_stock;
mod admin_support;
mod admin_web;
mod backup;
mod cli;
mod config;
mod contention;
mod errors;
mod helpers;
mod hostile;
mod layers;
mod metrics;
mod openapi;
mod orders;
mod search;
mod search_brute_force;
mod search_index;
mod seed;
mod stores;
mod suggest;
mod torn_index;
mod writer;
