//! Configuration: file, environment, defaults and precedence.
