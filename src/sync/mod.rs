//! Sending sealed records to the county platform and polling their review.
//!
//! [`core`] decides (no IO), [`client`] talks HTTPS with mutual TLS, and
//! [`worker`] drives the one with the other against the store.

pub mod client;
pub mod core;
pub mod worker;
