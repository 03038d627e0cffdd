//! The test environment: a temporary store and a way to run the binary against it.
