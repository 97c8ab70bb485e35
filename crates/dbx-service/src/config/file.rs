//! Reading `dbx.toml`: `${VAR}` substitution, then TOML with errors that name the line.

use dbx_core::{Error, Result};

use super::DbxConfig;

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte.min(text.len())].matches('\n').count() + 1
}

/// Where a TOML comment starts on `line`: the first `#` outside a quoted string.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some('"'), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => return Some(i),
            _ => {}
        }
        escaped = false;
    }
    None
}

/// Replaces `${VAR}` with the variable's value and `${VAR:-default}` with the value or, when
/// the variable is unset or empty, the default. `$${` stands for a literal `${`. Comments are
/// left as they are. A variable that is unset and has no default is an error naming it and
/// its line.
pub fn substitute(text: &str, get: &impl Fn(&str) -> Option<String>) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    for (number, line) in text.split_inclusive('\n').enumerate() {
        let code_end = comment_start(line).unwrap_or(line.len());
        out.push_str(&substitute_line(&line[..code_end], number + 1, get)?);
        out.push_str(&line[code_end..]);
    }
    Ok(out)
}

fn substitute_line(
    text: &str,
    line: usize,
    get: &impl Fn(&str) -> Option<String>,
) -> Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
            continue;
        }
        let Some(body_and_more) = tail.strip_prefix("${") else {
            out.push('$');
            rest = &tail[1..];
            continue;
        };
        let close = body_and_more.find('}').ok_or_else(|| {
            Error::Config(format!(
                "line {line}: `${{` is not closed by `}}`; write $${{ for a literal ${{"
            ))
        })?;
        let body = &body_and_more[..close];
        let (name, default) = match body.split_once(":-") {
            Some((name, default)) => (name, Some(default)),
            None => (body, None),
        };
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::Config(format!(
                "line {line}: ${{{body}}} is not a variable reference: names are letters, digits and '_'"
            )));
        }
        match (get(name).filter(|v| !v.is_empty()), default) {
            (Some(value), _) => out.push_str(&value),
            (None, Some(default)) => out.push_str(default),
            (None, None) => {
                return Err(Error::Config(format!(
                    "line {line}: ${{{name}}} is not set and has no default; set it, or write ${{{name}:-default}}"
                )));
            }
        }
        rest = &body_and_more[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Parses the text of a `dbx.toml` (after substitution). Errors name the line, and unknown
/// keys name the key.
pub fn parse(text: &str, get: &impl Fn(&str) -> Option<String>) -> Result<DbxConfig> {
    let text = substitute(text, get)?;
    toml::from_str(&text).map_err(|e| Error::Config(describe(&text, &e)))
}

fn describe(text: &str, err: &toml::de::Error) -> String {
    let message = err.message().trim().to_owned();
    // An unknown key: point at the line that spells it, which is more exact than the span of
    // the table around it.
    if let Some(key) = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split('`').next())
    {
        let from = err.span().map_or(0, |s| s.start);
        let offset = text[from..]
            .lines()
            .scan(from, |pos, line| {
                let here = *pos;
                *pos += line.len() + 1;
                Some((here, line))
            })
            .find(|(_, line)| line.trim_start().split(['=', ' ']).next() == Some(key))
            .map(|(at, _)| at);
        if let Some(at) = offset {
            return format!("line {}: {message}", line_of(text, at));
        }
    }
    match err.span() {
        Some(span) => format!("line {}: {message}", line_of(text, span.start)),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOST" => Some("db.internal".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn substitution_forms() {
        assert_eq!(substitute("a ${HOST} b", &env).unwrap(), "a db.internal b");
        assert_eq!(
            substitute("${MISSING:-fallback}", &env).unwrap(),
            "fallback"
        );
        assert_eq!(substitute("${EMPTY:-x}", &env).unwrap(), "x");
        assert_eq!(
            substitute("cost $5 and $${HOST}", &env).unwrap(),
            "cost $5 and ${HOST}"
        );
        let err = substitute("x = 1\ny = \"${MISSING}\"", &env)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("MISSING") && err.contains(":-default"),
            "{err}"
        );
        assert!(substitute("${HOST", &env).is_err());
        assert!(substitute("${not a name}", &env).is_err());
        // Comments are not substituted; a `#` inside a string is not a comment.
        assert_eq!(
            substitute("# see ${UNSET}\n", &env).unwrap(),
            "# see ${UNSET}\n"
        );
        assert_eq!(
            substitute("a = \"#${HOST}\" # ${UNSET}", &env).unwrap(),
            "a = \"#db.internal\" # ${UNSET}"
        );
    }
}
