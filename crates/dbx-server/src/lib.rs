#![doc = include_str!("../README.md")]

pub mod cli;
pub(crate) mod serve;
pub(crate) mod sources;
