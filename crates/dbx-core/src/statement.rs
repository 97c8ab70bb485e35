//! A statement: SQL text plus its arguments.

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
}

impl Statement {
    /// A statement with no arguments yet.
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            params: Params::default(),
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
