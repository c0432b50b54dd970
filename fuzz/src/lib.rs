//! What the fuzz targets share: the repository's own test keys (`tests/fixtures/vectors.json`,
//! the same known-answer data the provider tests use), channel configurations and clients
//! built from them, and small helpers that cut one fuzz input into the parts a target needs.
//!
//! Fixture loading may `expect`: a broken fixture is a broken build, not an input. Nothing
//! that reads the fuzz input panics except on purpose (a violated property).

pub mod fixtures;
pub mod input;
pub mod orders;
