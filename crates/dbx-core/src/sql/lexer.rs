//! Finds placeholders in SQL text without being fooled by literals, identifiers or comments.
//!
//! The lexer is deliberately not a parser: it knows just enough of each dialect's quoting and
//! comment rules to tell a `?` or `:name` that is a parameter from one that is text.

use std::ops::Range;

/// The quoting and comment rules to lex by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite and libSQL: `"id"`, `` `id` `` and `[id]` are identifiers; comments do not nest.
    Sqlite,
    /// PostgreSQL: `E'..'` strings with backslash escapes, `$tag$..$tag$` bodies, nested
    /// block comments and `::type` casts.
    Postgres,
    /// MySQL and MariaDB: backslash escapes in `'..'` and `".."` strings, `#` comments and
    /// `-- ` comments that need a space after the dashes.
    Mysql,
}

/// What kind of placeholder a [`Placeholder`] is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceholderKind {
    /// `?`: the next free position.
    Anonymous,
    /// `?NNN` or `$NNN`: an explicit 1-based position.
    Numbered(u32),
    /// `:name`, `@name` or `$name`. The name is stored without its sigil.
    Named(String),
    /// `??`: a literal question mark (for PostgreSQL's jsonb `?`, `?|` and `?&` operators).
    EscapedQuestion,
}

/// A placeholder and where it stands in the SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// Byte range of the whole token, sigil included.
    pub span: Range<usize>,
    /// What it is.
    pub kind: PlaceholderKind,
}

/// The largest parameter position accepted; PostgreSQL and MySQL cap a statement at 65,535.
pub const MAX_PARAMETER_INDEX: u32 = 65_535;

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// Scans `sql` and returns its placeholders in text order.
///
/// Fails only on a `?NNN`/`$NNN` position of 0 or above [`MAX_PARAMETER_INDEX`]. Unterminated
/// quotes and comments are not errors here: they run to the end of the text, and the database
/// reports them with its own syntax error.
pub fn scan(sql: &str, dialect: Dialect) -> Result<Vec<Placeholder>, String> {
    let mut out = Vec::new();
    let mut lexer = Lexer {
        bytes: sql.as_bytes(),
        pos: 0,
        dialect,
    };
    while let Some(found) = lexer.next_placeholder()? {
        out.push(found);
    }
    Ok(out)
}

/// Whether the text may contain a placeholder at all; lets callers skip the scan.
pub fn may_have_placeholders(sql: &str) -> bool {
    sql.bytes().any(|b| matches!(b, b'?' | b':' | b'@' | b'$'))
}

/// The first keyword of the statement, upper-cased, skipping white space, comments and
/// opening parentheses. `None` for text with no keyword.
pub fn leading_keyword(sql: &str, dialect: Dialect) -> Option<String> {
    keyword_at(sql, 0, dialect).map(|(word, _)| word)
}

/// The keyword at or after `from`, and the byte offset just past it.
fn keyword_at(sql: &str, from: usize, dialect: Dialect) -> Option<(String, usize)> {
    let mut lexer = Lexer {
        bytes: sql.as_bytes(),
        pos: from,
        dialect,
    };
    loop {
        let b = *lexer.bytes.get(lexer.pos)?;
        if b.is_ascii_whitespace() || b == b'(' {
            lexer.pos += 1;
        } else if !lexer.skip_comment() {
            break;
        }
    }
    let start = lexer.pos;
    let end = lexer.bytes[start..]
        .iter()
        .position(|b| !b.is_ascii_alphabetic())
        .map_or(lexer.bytes.len(), |n| start + n);
    (end > start).then(|| (sql[start..end].to_ascii_uppercase(), end))
}

/// Whether the statement starts, ends or marks a transaction (`BEGIN`, `START TRANSACTION`,
/// `COMMIT`, `END`, `ROLLBACK`, `SAVEPOINT`, `RELEASE`).
///
/// Pooled adapters refuse these, because the next statement may run on another connection;
/// dedicated connections and transactions exist for them.
pub fn is_transaction_control(sql: &str, dialect: Dialect) -> bool {
    match leading_keyword(sql, dialect).as_deref() {
        Some("BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE" | "ABORT") => true,
        Some("START") => keyword_at(sql, 0, dialect)
            .and_then(|(_, end)| keyword_at(sql, end, dialect))
            .is_some_and(|(next, _)| next == "TRANSACTION"),
        _ => false,
    }
}

/// Splits `sql` into statements at the `;`s that are outside literals, quoted identifiers
/// and comments. Statements are trimmed; empty ones (`;;`, a trailing `;`, only comments) are
/// dropped.
pub fn split_statements(sql: &str, dialect: Dialect) -> Vec<&str> {
    let mut lexer = Lexer {
        bytes: sql.as_bytes(),
        pos: 0,
        dialect,
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut has_code = false;
    while let Some(b) = lexer.peek(0) {
        if lexer.skip_comment() {
            continue;
        }
        if lexer.skip_quoted() {
            has_code = true;
            continue;
        }
        if dialect == Dialect::Postgres
            && b == b'$'
            && !lexer.prev_is_ident()
            && lexer.dollar_quote_from(lexer.pos)
        {
            has_code = true;
            continue;
        }
        if b == b';' {
            if has_code {
                out.push(sql[start..lexer.pos].trim());
            }
            lexer.pos += 1;
            start = lexer.pos;
            has_code = false;
            continue;
        }
        has_code |= !b.is_ascii_whitespace();
        lexer.pos += 1;
    }
    if has_code {
        out.push(sql[start..].trim());
    }
    out
}

/// The words (keywords and bare identifiers, upper-cased) of `sql` that stand outside
/// literals, quoted identifiers and comments, in text order.
pub(crate) fn bare_words(sql: &str, dialect: Dialect) -> Vec<String> {
    let mut lexer = Lexer {
        bytes: sql.as_bytes(),
        pos: 0,
        dialect,
    };
    let mut words = Vec::new();
    while let Some(b) = lexer.peek(0) {
        if lexer.skip_comment() || lexer.skip_quoted() {
            continue;
        }
        if dialect == Dialect::Postgres
            && b == b'$'
            && !lexer.prev_is_ident()
            && lexer.dollar_quote_from(lexer.pos)
        {
            continue;
        }
        if is_ident_start(b) && !lexer.prev_is_ident() {
            let start = lexer.pos;
            while lexer.peek(0).is_some_and(is_ident_char) {
                lexer.pos += 1;
            }
            words.push(sql[start..lexer.pos].to_ascii_uppercase());
            continue;
        }
        lexer.pos += 1;
    }
    words
}

/// Whether `word` (upper-case) stands in `sql` outside literals, quoted identifiers and
/// comments.
pub fn has_bare_word(sql: &str, dialect: Dialect, word: &str) -> bool {
    bare_words(sql, dialect).iter().any(|w| w == word)
}

/// `sql` with the white space between a word and an opening parenthesis removed, outside
/// literals and comments: `COUNT (*)` becomes `COUNT(*)`.
///
/// MySQL reads a built-in function name followed by a space as an identifier, so `COUNT (*)`
/// is a syntax error there; some SQL generators (the Rust `libsql` crate re-renders every
/// statement) put that space in. Joining is harmless elsewhere in MySQL's grammar.
pub fn join_call_parens(sql: &str, dialect: Dialect) -> String {
    let mut lexer = Lexer {
        bytes: sql.as_bytes(),
        pos: 0,
        dialect,
    };
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    while let Some(b) = lexer.peek(0) {
        if lexer.skip_comment() || lexer.skip_quoted() {
            continue;
        }
        if b.is_ascii_whitespace() && lexer.prev_is_ident() {
            let start = lexer.pos;
            while lexer.peek(0).is_some_and(|b| b.is_ascii_whitespace()) {
                lexer.pos += 1;
            }
            if lexer.peek(0) == Some(b'(') {
                out.push_str(&sql[copied..start]);
                copied = lexer.pos;
            }
            continue;
        }
        lexer.pos += 1;
    }
    out.push_str(&sql[copied..]);
    out
}

struct Lexer<'a> {
    bytes: &'a [u8],
    pos: usize,
    dialect: Dialect,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.pos + ahead).copied()
    }

    fn prev_is_ident(&self) -> bool {
        self.pos > 0 && is_ident_char(self.bytes[self.pos - 1])
    }

    fn next_placeholder(&mut self) -> Result<Option<Placeholder>, String> {
        while let Some(b) = self.peek(0) {
            if self.skip_comment() || self.skip_quoted() {
                continue;
            }
            let start = self.pos;
            let found = match b {
                b'?' => self.question()?,
                b':' if self.peek(1) == Some(b':') => {
                    // A `::type` cast, never a parameter.
                    self.pos += 2;
                    None
                }
                b':' | b'@' | b'$' if !self.prev_is_ident() => self.sigil(b)?,
                _ => {
                    self.pos += 1;
                    None
                }
            };
            if let Some(kind) = found {
                return Ok(Some(Placeholder {
                    span: start..self.pos,
                    kind,
                }));
            }
        }
        Ok(None)
    }

    fn question(&mut self) -> Result<Option<PlaceholderKind>, String> {
        let start = self.pos;
        self.pos += 1;
        if self.peek(0) == Some(b'?') {
            self.pos += 1;
            return Ok(Some(PlaceholderKind::EscapedQuestion));
        }
        match self.digits() {
            Some(n) => check_position(n, &self.bytes[start..self.pos]).map(Some),
            None => Ok(Some(PlaceholderKind::Anonymous)),
        }
    }

    /// Reads a run of digits as a position; `Some(0)` and overflow are sent on as such so that
    /// the caller can reject them.
    fn digits(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.peek(0).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        (self.pos > start).then(|| {
            std::str::from_utf8(&self.bytes[start..self.pos])
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(u32::MAX)
        })
    }

    fn sigil(&mut self, sigil: u8) -> Result<Option<PlaceholderKind>, String> {
        let start = self.pos;
        self.pos += 1;
        if sigil == b'@' && self.peek(0) == Some(b'@') {
            // `@@name` is a MySQL system variable and `@@` a PostgreSQL text-search operator.
            self.pos += 1;
            while self.peek(0).is_some_and(is_ident_char) {
                self.pos += 1;
            }
            return Ok(None);
        }
        if sigil == b'$' {
            if let Some(n) = self.digits() {
                return check_position(n, &self.bytes[start..self.pos]).map(Some);
            }
            if self.dialect == Dialect::Postgres && self.dollar_quote_from(start) {
                return Ok(None);
            }
        }
        if !self.peek(0).is_some_and(is_ident_start) {
            return Ok(None);
        }
        let name_start = self.pos;
        while self.peek(0).is_some_and(|b| is_ident_char(b) && b != b'$') {
            self.pos += 1;
        }
        let name = String::from_utf8_lossy(&self.bytes[name_start..self.pos]).into_owned();
        Ok(Some(PlaceholderKind::Named(name)))
    }

    /// At a `$` that opens a PostgreSQL dollar-quoted body (`$$` or `$tag$`), skips the whole
    /// body and returns true; otherwise leaves the position at `start + 1` and returns false.
    fn dollar_quote_from(&mut self, start: usize) -> bool {
        let mut end = start + 1;
        while self
            .bytes
            .get(end)
            .is_some_and(|&b| is_ident_char(b) && b != b'$')
        {
            end += 1;
        }
        let tag_is_valid = end == start + 1 || is_ident_start(self.bytes[start + 1]);
        if !(tag_is_valid && self.bytes.get(end) == Some(&b'$')) {
            return false;
        }
        let delimiter = &self.bytes[start..=end];
        let body_start = end + 1;
        let close = self.bytes[body_start..]
            .windows(delimiter.len())
            .position(|w| w == delimiter)
            .map_or(self.bytes.len(), |i| body_start + i + delimiter.len());
        self.pos = close;
        true
    }

    fn skip_comment(&mut self) -> bool {
        match (self.peek(0), self.peek(1)) {
            (Some(b'-'), Some(b'-')) => {
                let mysql_needs_space = self.dialect == Dialect::Mysql
                    && !self
                        .peek(2)
                        .is_none_or(|b| b.is_ascii_whitespace() || b.is_ascii_control());
                if mysql_needs_space {
                    return false;
                }
                self.skip_line();
                true
            }
            (Some(b'#'), _) if self.dialect == Dialect::Mysql => {
                self.skip_line();
                true
            }
            (Some(b'/'), Some(b'*')) => {
                self.pos += 2;
                let mut depth = 1usize;
                while depth > 0 && self.pos < self.bytes.len() {
                    match (self.peek(0), self.peek(1)) {
                        (Some(b'*'), Some(b'/')) => {
                            depth -= 1;
                            self.pos += 2;
                        }
                        (Some(b'/'), Some(b'*')) if self.dialect == Dialect::Postgres => {
                            depth += 1;
                            self.pos += 2;
                        }
                        _ => self.pos += 1,
                    }
                }
                true
            }
            _ => false,
        }
    }

    fn skip_line(&mut self) {
        while let Some(b) = self.peek(0) {
            self.pos += 1;
            if b == b'\n' {
                break;
            }
        }
    }

    fn skip_quoted(&mut self) -> bool {
        let Some(open) = self.peek(0) else {
            return false;
        };
        let (close, backslash) = match (open, self.dialect) {
            (b'\'', Dialect::Mysql) | (b'"', Dialect::Mysql) => (open, true),
            (b'\'', Dialect::Postgres) => (b'\'', self.is_escape_string_prefix()),
            (b'\'', _) | (b'"', _) => (open, false),
            (b'`', Dialect::Sqlite | Dialect::Mysql) => (b'`', false),
            (b'[', Dialect::Sqlite) => (b']', false),
            _ => return false,
        };
        self.pos += 1;
        while let Some(b) = self.peek(0) {
            self.pos += 1;
            if backslash && b == b'\\' {
                self.pos += 1;
            } else if b == close {
                // A doubled closing quote is an escaped quote, except for `[...]`.
                if close != b']' && self.peek(0) == Some(close) {
                    self.pos += 1;
                } else {
                    break;
                }
            }
        }
        self.pos = self.pos.min(self.bytes.len());
        true
    }

    /// PostgreSQL `E'...'` strings treat backslash as an escape.
    fn is_escape_string_prefix(&self) -> bool {
        self.pos >= 1
            && matches!(self.bytes[self.pos - 1], b'e' | b'E')
            && (self.pos < 2 || !is_ident_char(self.bytes[self.pos - 2]))
    }
}

fn check_position(n: u32, token: &[u8]) -> Result<PlaceholderKind, String> {
    if n == 0 || n > MAX_PARAMETER_INDEX {
        return Err(format!(
            "parameter {} is out of range: positions run from 1 to {MAX_PARAMETER_INDEX}",
            String::from_utf8_lossy(token)
        ));
    }
    Ok(PlaceholderKind::Numbered(n))
}

#[cfg(test)]
#[path = "lexer_tests.rs"]
mod tests;
