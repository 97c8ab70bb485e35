//! A statement: SQL text plus its arguments, and the bounds it runs under.

use std::time::Duration;

use crate::value::Value;

/// Arguments for one statement: positional, named, or both.
///
/// Named arguments are stored without their sigil, so `":id"`, `"@id"`, `"$id"` and `"id"`
/// all name the placeholder written `:id`, `@id` or `$id` in the SQL.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Params {
    /// Values for `?`, `?NNN` and (by position) named placeholders, first position first.
    pub positional: Vec<Value>,
    /// Values for named placeholders, keyed by bare name.
    pub named: Vec<(String, Value)>,
}

impl Params {
    /// No arguments.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether there are no arguments at all.
    pub fn is_empty(&self) -> bool {
        self.positional.is_empty() && self.named.is_empty()
    }

    /// Adds a named argument; a leading `:`, `@` or `$` is dropped. A second value for the
    /// same name replaces the first.
    pub fn insert_named(&mut self, name: &str, value: Value) {
        let bare = bare_name(name);
        match self.named.iter_mut().find(|(n, _)| n == bare) {
            Some(slot) => slot.1 = value,
            None => self.named.push((bare.to_owned(), value)),
        }
    }

    /// The value of a named argument, looked up by bare name.
    pub fn named(&self, name: &str) -> Option<&Value> {
        let bare = bare_name(name);
        self.named.iter().find(|(n, _)| n == bare).map(|(_, v)| v)
    }
}

/// A name with one leading placeholder sigil removed.
pub fn bare_name(name: &str) -> &str {
    name.strip_prefix([':', '@', '$']).unwrap_or(name)
}

/// SQL text with its arguments.
///
/// Write SQLite-style placeholders on every backend: `?`, `?NNN`, `:name`, `@name`,
/// `$name` (and `$NNN`, which means the same as `?NNN`). `??` stands for a literal `?`.
///
/// ```
/// use dbx_core::{Statement, Value};
/// let stmt = Statement::new("SELECT * FROM users WHERE id = :id AND org = ?2")
///     .bind_named("id", 7)
///     .bind(Value::Null)
///     .bind("acme");
/// assert_eq!(stmt.params.positional.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Statement {
    /// The SQL text.
    pub sql: String,
    /// The arguments.
    pub params: Params,
    /// How long it may run and how much it may return.
    pub limits: StatementLimits,
}

/// Bounds on one statement, enforced by the adapter while the statement runs: past its
/// `timeout` the statement is cancelled on the server and fails with
/// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout); once its rows pass `max_result_bytes`
/// the adapter stops reading them, cancels the statement and fails with
/// [`ErrorKind::ResultTooLarge`](crate::ErrorKind::ResultTooLarge), so that a large result
/// never sits in memory whole. A statement whose caller goes away (its future dropped) is
/// cancelled on the server as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatementLimits {
    /// The longest the statement may run; `None` for no limit.
    pub timeout: Option<Duration>,
    /// The most row data it may return, counted as [`row_bytes`](crate::row_bytes) counts it;
    /// `None` for no limit.
    pub max_result_bytes: Option<usize>,
}

impl Statement {
    /// A statement with no arguments yet.
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: Params::default(),
            limits: StatementLimits::default(),
        }
    }

    /// A statement with positional arguments.
    pub fn with_args<I, V>(sql: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<Value>,
    {
        let positional = args.into_iter().map(Into::into).collect();
        Self {
            sql: sql.into(),
            params: Params {
                positional,
                named: Vec::new(),
            },
            limits: StatementLimits::default(),
        }
    }

    /// A statement with named arguments.
    pub fn with_named<'a, I, V>(sql: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, V)>,
        V: Into<Value>,
    {
        let mut stmt = Self::new(sql);
        for (name, value) in args {
            stmt.params.insert_named(name, value.into());
        }
        stmt
    }

    /// Appends a positional argument.
    #[must_use]
    pub fn bind(mut self, value: impl Into<Value>) -> Self {
        self.params.positional.push(value.into());
        self
    }

    /// Adds a named argument, with or without its sigil.
    #[must_use]
    pub fn bind_named(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.params.insert_named(name, value.into());
        self
    }

    /// Sets [`StatementLimits::timeout`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.limits.timeout = Some(timeout);
        self
    }

    /// Sets [`StatementLimits::max_result_bytes`].
    #[must_use]
    pub fn max_result_bytes(mut self, bytes: usize) -> Self {
        self.limits.max_result_bytes = Some(bytes);
        self
    }

    /// Replaces every limit at once.
    #[must_use]
    pub fn with_limits(mut self, limits: StatementLimits) -> Self {
        self.limits = limits;
        self
    }
}

impl From<&str> for Statement {
    fn from(sql: &str) -> Self {
        Statement::new(sql)
    }
}

impl From<String> for Statement {
    fn from(sql: String) -> Self {
        Statement::new(sql)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_arguments_drop_their_sigil_and_replace() {
        let stmt = Statement::new("x")
            .bind_named(":a", 1)
            .bind_named("@a", 2)
            .bind_named("b", 3);
        assert_eq!(stmt.params.named.len(), 2);
        assert_eq!(stmt.params.named("$a"), Some(&Value::Integer(2)));
        assert_eq!(stmt.params.named("b"), Some(&Value::Integer(3)));
    }

    #[test]
    fn builders() {
        let s = Statement::with_args("SELECT ?, ?", [1, 2]);
        assert_eq!(
            s.params.positional,
            vec![Value::Integer(1), Value::Integer(2)]
        );
        let n = Statement::with_named("SELECT :a", [("a", "x")]);
        assert_eq!(n.params.named("a"), Some(&Value::Text("x".into())));
        assert!(Statement::from("SELECT 1").params.is_empty());
    }
}
