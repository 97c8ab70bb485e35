//! What a SQL text comes to in one dialect, whatever its arguments: the native text, how
//! arguments map onto its parameters, and its leading keyword. Finding these takes a lexer
//! pass or more, which cost as much as SQLite needs to run a small insert; a service runs the
//! same few texts over and over, so each distinct text is lexed once and its shape shared.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use super::bind::{self, Slot};
use super::lexer::{self, Dialect};
use crate::error::{Error, Result};
use crate::statement::{Params, Statement, StatementLimits};
use crate::value::Value;

/// Distinct texts kept per dialect. Past this the cache starts afresh: simple, bounded, and
/// a text costs only one lexer pass to shape again.
const MAX_SHAPES: usize = 1024;
/// Longer texts (generated multi-row inserts, say) are shaped on every use and never kept,
/// so that they cannot crowd the cache or hold much memory.
const MAX_CACHED_LEN: usize = 8 * 1024;

/// A statement's text as the backend sees it, ready to take arguments.
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    native: Box<str>,
    slots: Vec<Slot>,
    highest: u32,
    /// For MySQL, the slot of each `?` in text order, when that is not simply one per slot in
    /// order (a named placeholder used twice binds twice).
    occurrences: Option<Vec<usize>>,
    keyword: Option<Box<str>>,
    transaction_control: bool,
    changes_session: bool,
    /// Whether the text had placeholders (`??` included) and so was rewritten.
    rewritten: bool,
}

impl Shape {
    fn build(sql: &str, dialect: Dialect) -> Result<Shape> {
        let placeholders = if lexer::may_have_placeholders(sql) {
            lexer::scan(sql, dialect).map_err(Error::Arguments)?
        } else {
            Vec::new()
        };
        let (positions, slots, highest) = bind::layout(&placeholders)?;
        let (native, occurrences) = if placeholders.is_empty() {
            (sql.into(), Vec::new())
        } else {
            let (text, ranks) = bind::rewrite(sql, &placeholders, &positions, &slots, dialect);
            (text.into_boxed_str(), ranks)
        };
        let in_slot_order = occurrences.iter().copied().eq(0..slots.len());
        Ok(Shape {
            native,
            occurrences: (dialect == Dialect::Mysql && !in_slot_order).then_some(occurrences),
            slots,
            highest,
            keyword: lexer::leading_keyword(sql, dialect).map(String::into_boxed_str),
            transaction_control: lexer::is_transaction_control(sql, dialect),
            changes_session: super::session::changes_session(sql, dialect),
            rewritten: !placeholders.is_empty(),
        })
    }

    /// The text in the dialect's placeholder form.
    pub fn sql(&self) -> &str {
        &self.native
    }

    /// Whether the text has placeholders (`??` included), and so was rewritten.
    pub fn has_placeholders(&self) -> bool {
        self.rewritten
    }

    /// The first keyword, upper-cased, as [`leading_keyword`](super::leading_keyword) gives it.
    pub fn keyword(&self) -> Option<&str> {
        self.keyword.as_deref()
    }

    /// Whether the statement starts, ends or marks a transaction, as
    /// [`is_transaction_control`](super::is_transaction_control) says.
    pub fn is_transaction_control(&self) -> bool {
        self.transaction_control
    }

    /// Whether the statement may leave state on its connection, as
    /// [`changes_session`](super::changes_session) says.
    pub fn changes_session(&self) -> bool {
        self.changes_session
    }

    /// The error a pooled adapter gives for a transaction-control statement, for the text
    /// `sql` this shape was made from.
    pub fn refuse_transaction_control(&self, sql: &str) -> Result<()> {
        if self.transaction_control {
            return Err(Error::InvalidArgument(format!(
                "{:?} controls a transaction, which a pooled adapter cannot keep between calls: \
                 use transaction() or connection() instead",
                sql.trim()
            )));
        }
        Ok(())
    }

    /// `params` in the order the native parameters take them. Errors (all
    /// [`Error::Arguments`]) name every placeholder without an argument, every named argument
    /// that matches no placeholder, and surplus positional arguments.
    pub fn bind(&self, params: Params) -> Result<Vec<Value>> {
        if self.slots.is_empty() {
            if !params.is_empty() {
                return Err(Error::Arguments(format!(
                    "the statement has no placeholders but {} arguments were given",
                    params.positional.len() + params.named.len()
                )));
            }
            return Ok(Vec::new());
        }
        let values = bind::resolve(&self.slots, self.highest, params)?;
        Ok(match &self.occurrences {
            None => values,
            Some(ranks) => ranks.iter().map(|&rank| values[rank].clone()).collect(),
        })
    }
}

/// A statement in a dialect's native form with its arguments in native order: what an
/// adapter runs.
#[derive(Debug)]
pub struct Bound {
    /// The text's shape, shared by every statement with the same text.
    pub shape: Arc<Shape>,
    /// The arguments, in the order the native placeholders take them.
    pub args: Vec<Value>,
    /// The statement's time and size limits.
    pub limits: StatementLimits,
}

impl Bound {
    /// Shapes `stmt` for `dialect` (from the cache when the text was seen) and binds its
    /// arguments.
    pub fn new(stmt: Statement, dialect: Dialect) -> Result<Self> {
        Self::with_shape(shape(&stmt.sql, dialect)?, stmt.params, stmt.limits)
    }

    /// Binds `params` to a shape already looked up.
    pub fn with_shape(shape: Arc<Shape>, params: Params, limits: StatementLimits) -> Result<Self> {
        let args = shape.bind(params)?;
        Ok(Self {
            shape,
            args,
            limits,
        })
    }

    /// The native SQL.
    pub fn sql(&self) -> &str {
        self.shape.sql()
    }

    /// The first keyword, upper-cased.
    pub fn keyword(&self) -> Option<&str> {
        self.shape.keyword()
    }
}

type Shapes = RwLock<HashMap<Box<str>, Arc<Shape>>>;

/// One map per dialect, so that a lookup needs no key of its own but the text.
static CACHE: LazyLock<[Shapes; 3]> = LazyLock::new(Default::default);

fn shapes(dialect: Dialect) -> &'static Shapes {
    &CACHE[match dialect {
        Dialect::Sqlite => 0,
        Dialect::Postgres => 1,
        Dialect::Mysql => 2,
    }]
}

/// The error a pooled adapter gives for a transaction-control statement, for callers that have
/// no shape at hand.
pub fn refuse_transaction_control(sql: &str, dialect: Dialect) -> Result<()> {
    shape(sql, dialect)?.refuse_transaction_control(sql)
}

/// The shape of `sql` in `dialect`, lexed on first use and shared after that.
///
/// Fails only where the text does: on a `?NNN`/`$NNN` position of 0 or above
/// [`MAX_PARAMETER_INDEX`](super::MAX_PARAMETER_INDEX), or past that many parameters.
pub fn shape(sql: &str, dialect: Dialect) -> Result<Arc<Shape>> {
    if sql.len() > MAX_CACHED_LEN {
        return Shape::build(sql, dialect).map(Arc::new);
    }
    let map = shapes(dialect);
    // A panic while the lock was held cannot leave the map half-changed in a way that
    // matters: every entry is complete when inserted.
    if let Some(found) = map.read().unwrap_or_else(PoisonError::into_inner).get(sql) {
        return Ok(found.clone());
    }
    let built = Arc::new(Shape::build(sql, dialect)?);
    let mut map = map.write().unwrap_or_else(PoisonError::into_inner);
    if map.len() >= MAX_SHAPES {
        map.clear();
    }
    map.insert(sql.into(), built.clone());
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(dialect: Dialect) -> usize {
        shapes(dialect)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    #[test]
    fn a_text_is_shaped_once_and_shared() {
        let sql = "SELECT * FROM shared_once WHERE a = ? AND b = :b";
        let first = shape(sql, Dialect::Postgres).unwrap();
        let second = shape(sql, Dialect::Postgres).unwrap();
        assert!(Arc::ptr_eq(&first, &second));
        assert_eq!(
            first.sql(),
            "SELECT * FROM shared_once WHERE a = $1 AND b = $2"
        );
        assert_eq!(first.keyword(), Some("SELECT"));
        // Another dialect gets its own shape of the same text.
        let sqlite = shape(sql, Dialect::Sqlite).unwrap();
        assert_eq!(
            sqlite.sql(),
            "SELECT * FROM shared_once WHERE a = ?1 AND b = ?2"
        );
    }

    #[test]
    fn the_cache_stays_bounded_and_long_texts_stay_out() {
        for i in 0..MAX_SHAPES + 10 {
            shape(
                &format!("SELECT {i} FROM bounded WHERE x = ?"),
                Dialect::Mysql,
            )
            .unwrap();
            assert!(cached(Dialect::Mysql) <= MAX_SHAPES);
        }
        let long = format!("SELECT ? {}", " ".repeat(MAX_CACHED_LEN));
        let a = shape(&long, Dialect::Mysql).unwrap();
        let b = shape(&long, Dialect::Mysql).unwrap();
        assert!(!Arc::ptr_eq(&a, &b), "a long text is shaped each time");
        assert_eq!(a, b);
    }

    #[test]
    fn binding_follows_the_native_order() {
        let p = Params {
            positional: Vec::new(),
            named: vec![
                ("m".to_owned(), Value::from(1)),
                ("n".to_owned(), Value::from("x")),
            ],
        };
        // MySQL binds once per `?`, so the name used twice binds twice.
        let my = shape("SELECT :n, :m, :n", Dialect::Mysql).unwrap();
        assert_eq!(my.sql(), "SELECT ?, ?, ?");
        assert_eq!(
            my.bind(p.clone()).unwrap(),
            [Value::from("x"), Value::from(1), Value::from("x")]
        );
        let pg = shape("SELECT :n, :m, :n", Dialect::Postgres).unwrap();
        assert_eq!(pg.sql(), "SELECT $1, $2, $1");
        assert_eq!(pg.bind(p).unwrap(), [Value::from("x"), Value::from(1)]);
    }

    #[test]
    fn transaction_control_and_errors_are_kept() {
        let begin = shape("  begin immediate", Dialect::Sqlite).unwrap();
        assert!(begin.is_transaction_control());
        let err = begin
            .refuse_transaction_control("  begin immediate")
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("\"begin immediate\" controls a transaction"),
            "{err}"
        );
        assert!(!begin.has_placeholders());
        let err = begin
            .bind(Params {
                positional: vec![Value::Null],
                named: Vec::new(),
            })
            .unwrap_err();
        assert!(err.to_string().contains("no placeholders but 1"), "{err}");
        assert!(matches!(
            shape("SELECT ?0", Dialect::Sqlite),
            Err(Error::Arguments(_))
        ));
        let jsonb = shape("SELECT doc ?? 'k'", Dialect::Postgres).unwrap();
        assert!(jsonb.has_placeholders());
        assert_eq!(jsonb.sql(), "SELECT doc ? 'k'");
    }
}
