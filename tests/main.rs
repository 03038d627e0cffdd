//! The one integration test binary: each module tests one command through the real binary.

mod common;
