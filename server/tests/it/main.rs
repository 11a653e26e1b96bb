//! Integration tests: the real server on a random port with a temporary database, driven by a
//! real HTTP client.

mod accounts;
mod api;
mod cli;
mod guards;
mod helpers;
mod receiving;
