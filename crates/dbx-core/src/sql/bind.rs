//! Matches arguments to placeholders and rewrites the SQL into a backend's native form.
//!
//! Positions follow SQLite's rules on every backend: `?` takes the largest position used so
//! far plus one, `?NNN` takes NNN, and a name takes a new position where it first appears and
//! keeps it after. Adapters then receive plain SQL and arguments in native order:
//! `?1..?n` for SQLite, `$1..$n` for PostgreSQL and one `?` per occurrence for MySQL.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::lexer::{self, Dialect, PlaceholderKind};
use crate::error::{Error, Result};
use crate::statement::Params;
use crate::value::Value;

/// SQL in a backend's native placeholder form, with its arguments in native order.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeStatement<'a> {
    /// The rewritten SQL; borrowed when nothing needed rewriting.
    pub sql: Cow<'a, str>,
    /// The arguments, in the order the native placeholders expect.
    pub args: Vec<Value>,
}

/// One distinct parameter position and how it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Slot {
    position: u32,
    name: Option<String>,
}

/// Rewrites `sql` for `dialect` and orders `params` to match.
///
/// Errors (all [`Error::Arguments`]) name every placeholder that has no argument, every named
/// argument that matches no placeholder, and surplus positional arguments. The rewrite itself
/// comes from the [`Shape`](super::Shape) cache, so a text seen before is not lexed again.
pub fn to_native(sql: &str, params: Params, dialect: Dialect) -> Result<NativeStatement<'_>> {
    let shape = super::shape(sql, dialect)?;
    let args = shape.bind(params)?;
    let sql = if shape.has_placeholders() {
        Cow::Owned(shape.sql().to_owned())
    } else {
        Cow::Borrowed(sql)
    };
    Ok(NativeStatement { sql, args })
}

/// Every placeholder's position (`None` for `??`), the distinct positions in order, and the
/// highest position.
pub(super) fn layout(
    placeholders: &[lexer::Placeholder],
) -> Result<(Vec<Option<u32>>, Vec<Slot>, u32)> {
    // Give every placeholder its position (None for `??`), and list the distinct positions.
    let mut slots: Vec<Slot> = Vec::new();
    let mut highest = 0u32;
    let positions: Vec<Option<u32>> = placeholders
        .iter()
        .map(|p| {
            let position = match &p.kind {
                PlaceholderKind::EscapedQuestion => return None,
                PlaceholderKind::Anonymous => highest + 1,
                PlaceholderKind::Numbered(n) => *n,
                PlaceholderKind::Named(name) => {
                    match slots.iter().find(|s| s.name.as_deref() == Some(name)) {
                        Some(slot) => slot.position,
                        None => {
                            slots.push(Slot {
                                position: highest + 1,
                                name: Some(name.clone()),
                            });
                            highest + 1
                        }
                    }
                }
            };
            if !slots.iter().any(|s| s.position == position) {
                slots.push(Slot {
                    position,
                    name: None,
                });
            }
            highest = highest.max(position);
            Some(position)
        })
        .collect();
    if highest > lexer::MAX_PARAMETER_INDEX {
        return Err(Error::Arguments(format!(
            "the statement uses more than {} parameters",
            lexer::MAX_PARAMETER_INDEX
        )));
    }
    slots.sort_by_key(|s| s.position);
    Ok((positions, slots, highest))
}

/// `sql` in `dialect`'s native placeholder form with nothing bound, and a label for each
/// native parameter in order, as SQLite names them: `?3` for a numbered one, `:name` (with
/// the sigil as written) for a named one, `None` for a bare `?`. For describing a statement.
pub fn describe_placeholders(sql: &str, dialect: Dialect) -> Result<(String, Vec<Option<String>>)> {
    let placeholders = lexer::scan(sql, dialect).map_err(Error::Arguments)?;
    let (positions, slots, _) = layout(&placeholders)?;
    let mut labels: Vec<Option<String>> = vec![None; slots.len()];
    let mut labelled = vec![false; slots.len()];
    for (placeholder, position) in placeholders.iter().zip(&positions) {
        let Some(position) = position else { continue };
        let rank = slots.partition_point(|s| s.position < *position);
        if std::mem::replace(&mut labelled[rank], true) {
            continue;
        }
        labels[rank] = match placeholder.kind {
            PlaceholderKind::Anonymous | PlaceholderKind::EscapedQuestion => None,
            PlaceholderKind::Numbered(_) | PlaceholderKind::Named(_) => {
                Some(sql[placeholder.span.clone()].to_owned())
            }
        };
    }
    let (native, _) = rewrite(sql, &placeholders, &positions, &slots, dialect);
    Ok((native, labels))
}

/// Finds the value for each slot, in slot order.
pub(super) fn resolve(slots: &[Slot], highest: u32, params: Params) -> Result<Vec<Value>> {
    let Params {
        positional,
        mut named,
    } = params;
    let parameter_count = usize::try_from(highest).unwrap_or(usize::MAX);
    if positional.len() > parameter_count {
        return Err(Error::Arguments(format!(
            "the statement has {parameter_count} parameter positions but {} positional arguments were given",
            positional.len()
        )));
    }
    if let Some((unknown, _)) = named
        .iter()
        .find(|(n, _)| !slots.iter().any(|s| s.name.as_deref() == Some(n)))
    {
        let known: Vec<String> = slots.iter().filter_map(|s| s.name.clone()).collect();
        return Err(Error::Arguments(format!(
            "named argument {unknown:?} matches no placeholder (the statement's names: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    let mut positional: Vec<Option<Value>> = positional.into_iter().map(Some).collect();
    let mut missing = Vec::new();
    let mut values = Vec::with_capacity(slots.len());
    for slot in slots {
        let by_name = slot.name.as_ref().and_then(|name| {
            let at = named.iter().position(|(n, _)| n == name)?;
            Some(named.swap_remove(at).1)
        });
        let index = usize::try_from(slot.position - 1).unwrap_or(usize::MAX);
        let value = by_name.or_else(|| positional.get_mut(index).and_then(Option::take));
        match value {
            Some(v) => values.push(v),
            None => missing.push(match &slot.name {
                Some(name) => format!(":{name}"),
                None => format!("?{}", slot.position),
            }),
        }
    }
    if !missing.is_empty() {
        return Err(Error::Arguments(format!(
            "no argument given for {}",
            missing.join(", ")
        )));
    }
    Ok(values)
}

/// `sql` with each placeholder in `dialect`'s native form, and the slot rank of each native
/// parameter in text order (for MySQL, whose `?` binds once per occurrence).
pub(super) fn rewrite(
    sql: &str,
    placeholders: &[lexer::Placeholder],
    positions: &[Option<u32>],
    slots: &[Slot],
    dialect: Dialect,
) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(sql.len() + placeholders.len() * 2);
    let mut occurrences = Vec::with_capacity(placeholders.len());
    let mut last = 0;
    let dense = |position: u32| slots.partition_point(|s| s.position < position);
    for (placeholder, position) in placeholders.iter().zip(positions) {
        out.push_str(&sql[last..placeholder.span.start]);
        last = placeholder.span.end;
        let Some(position) = position else {
            out.push('?');
            continue;
        };
        let rank = dense(*position);
        occurrences.push(rank);
        // Writing into a String cannot fail.
        let _ = match dialect {
            Dialect::Sqlite => write!(out, "?{}", rank + 1),
            Dialect::Postgres => write!(out, "${}", rank + 1),
            Dialect::Mysql => write!(out, "?"),
        };
    }
    out.push_str(&sql[last..]);
    (out, occurrences)
}

#[cfg(test)]
#[path = "bind_tests.rs"]
mod tests;
