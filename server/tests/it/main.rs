//! Integration tests: the real server on a random port with a temporary database, driven by a
//! real HTTP client.

mod accounts;
mod api;
mod cli;
mod cluster;
mod consumers;
mod crash;
mod disk;
mod edges;
mod figures;
mod guards;
mod handlers;
mod helpers;
mod hostile;
mod metrics;
mod notices;
mod pages;
mod payload_filters;
mod proxies;
mod receiving;
mod relay;
mod retention;
mod roles;
mod schemas;
mod secrets;
mod sending;
