//! Payload filters: a subscription's condition on a message's JSON payload, beside the event
//! types it selects. A message whose payload the filter does not match creates no delivery for
//! that subscription.
//!
//! ```text
//! filter     := or
//! or         := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" filter ")" | "exists" "(" path ")" | comparison
//! comparison := path ("==" | "!=" | "<" | "<=" | ">" | ">=") value
//!             | path "in" "[" value ("," value)* "]"
//! path       := (name | "$") ("." name | "[" index "]" | "[" string "]")*
//! value      := string | number | true | false | null | "[" value ("," value)* "]"
//! ```
//!
//! A `name` is letters, digits, `_`, `-` and `$`, not starting with a digit or `-`; other keys
//! (and keys named like a keyword) are written `$["a key"]` or `data["a key"]`. `$` alone is
//! the whole payload. Strings are JSON strings, in double quotes.
//!
//! Numbers compare as numbers (`1 == 1.0`), strings by their bytes (so RFC 3339 times order by
//! time), anything else only with `==` and `!=`, as whole JSON values. `<`, `>` and their kin
//! between a number and a string are false. A path that leads nowhere makes any comparison on
//! it false, `!=` and `in` included; `exists(path)` is true when the path leads to a value,
//! `null` included.

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::by_text::ByText;

/// Longest filter accepted, in characters.
pub const MAX_CHARS: usize = 2000;
/// How deep `not` and parentheses may nest.
const MAX_DEPTH: usize = 32;
/// Most values in one `in` list (or array value).
const MAX_LIST: usize = 100;

/// A filter, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadFilter(Expr);

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Exists(Path),
    Compare(Path, Op, Value),
    In(Path, Vec<Value>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
struct Path(Vec<Step>);

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    Index(usize),
}

/// Why a filter was refused: where (the 1-based character) and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at character {at}: {message}")]
pub struct FilterError {
    pub at: usize,
    pub message: String,
}

impl PayloadFilter {
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        let chars = text.chars().count();
        if chars > MAX_CHARS {
            return Err(FilterError {
                at: MAX_CHARS + 1,
                message: format!("a filter is at most {MAX_CHARS} characters, this one is {chars}"),
            });
        }
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens,
            next: 0,
            depth: 0,
            end: chars + 1,
        };
        let expr = parser.or()?;
        match parser.peek() {
            None => Ok(Self(expr)),
            Some(token) => Err(parser.error_at(
                token,
                format!(
                    "expected `and`, `or` or the end of the filter, found {}",
                    token.kind
                ),
            )),
        }
    }

    /// `text` parsed once and kept (see [`ByText`]): publishing reads a subscription's filter
    /// for every message, and parsing costs about ten times what evaluating does.
    pub fn cached(text: &str) -> Result<Arc<Self>, FilterError> {
        static PARSED: ByText<PayloadFilter> = ByText::new();
        PARSED.get(text, Self::parse)
    }

    /// Whether `payload` passes the filter.
    pub fn matches(&self, payload: &Value) -> bool {
        self.0.eval(payload)
    }
}

impl Expr {
    fn eval(&self, payload: &Value) -> bool {
        match self {
            Expr::Or(any) => any.iter().any(|e| e.eval(payload)),
            Expr::And(all) => all.iter().all(|e| e.eval(payload)),
            Expr::Not(inner) => !inner.eval(payload),
            Expr::Exists(path) => path.resolve(payload).is_some(),
            Expr::Compare(path, op, value) => path
                .resolve(payload)
                .is_some_and(|found| compare(found, *op, value)),
            Expr::In(path, values) => path
                .resolve(payload)
                .is_some_and(|found| values.iter().any(|v| equal(found, v))),
        }
    }
}

impl Path {
    fn resolve<'v>(&self, payload: &'v Value) -> Option<&'v Value> {
        self.0.iter().try_fold(payload, |value, step| match step {
            Step::Key(key) => value.as_object()?.get(key),
            Step::Index(index) => value.as_array()?.get(*index),
        })
    }
}

fn compare(found: &Value, op: Op, value: &Value) -> bool {
    match op {
        Op::Eq => equal(found, value),
        Op::Ne => !equal(found, value),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let Some(order) = order(found, value) else {
                return false;
            };
            match op {
                Op::Lt => order.is_lt(),
                Op::Le => order.is_le(),
                Op::Gt => order.is_gt(),
                _ => order.is_ge(),
            }
        }
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => order(a, b).is_some_and(|o| o.is_eq()),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equal(a, b))
        }
        _ => a == b,
    }
}

/// Numbers by value (exactly while both are integers), strings by their bytes.
fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => {
            if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                Some(a.cmp(&b))
            } else if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
                Some(a.cmp(&b))
            } else {
                a.as_f64()?.partial_cmp(&b.as_f64()?)
            }
        }
        (Value::String(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        _ => None,
    }
}

// ---- tokens ----

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Name(String),
    Root,
    Str(String),
    Num(serde_json::Number),
    Op(Op),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Comma,
    Dot,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Name(name) => write!(f, "`{name}`"),
            Kind::Root => f.write_str("`$`"),
            Kind::Str(s) => write!(f, "the string {}", Value::String(s.clone())),
            Kind::Num(n) => write!(f, "the number {n}"),
            Kind::Op(op) => write!(f, "`{}`", op_text(*op)),
            Kind::Open => f.write_str("`(`"),
            Kind::Close => f.write_str("`)`"),
            Kind::OpenBracket => f.write_str("`[`"),
            Kind::CloseBracket => f.write_str("`]`"),
            Kind::Comma => f.write_str("`,`"),
            Kind::Dot => f.write_str("`.`"),
        }
    }
}

fn op_text(op: Op) -> &'static str {
    match op {
        Op::Eq => "==",
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
    }
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// 1-based character where it starts.
    at: usize,
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '$'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$')
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (offset, c) = chars[i];
        let at = i + 1;
        let error = |message: String| FilterError { at, message };
        let single = match c {
            '(' => Some(Kind::Open),
            ')' => Some(Kind::Close),
            '[' => Some(Kind::OpenBracket),
            ']' => Some(Kind::CloseBracket),
            ',' => Some(Kind::Comma),
            '.' => Some(Kind::Dot),
            _ => None,
        };
        let next = chars.get(i + 1).map(|&(_, c)| c);
        let (kind, len) = if c.is_whitespace() {
            i += 1;
            continue;
        } else if let Some(kind) = single {
            (kind, 1)
        } else if matches!(c, '=' | '!' | '<' | '>') {
            match (c, next) {
                ('=', Some('=')) => (Kind::Op(Op::Eq), 2),
                ('!', Some('=')) => (Kind::Op(Op::Ne), 2),
                ('<', Some('=')) => (Kind::Op(Op::Le), 2),
                ('>', Some('=')) => (Kind::Op(Op::Ge), 2),
                ('<', _) => (Kind::Op(Op::Lt), 1),
                ('>', _) => (Kind::Op(Op::Gt), 1),
                ('=', _) => return Err(error("equality is written `==`".into())),
                _ => return Err(error("`!` is written `not`, or `!=` to compare".into())),
            }
        } else if c == '"' {
            let mut end = i + 1;
            let mut escaped = false;
            while end < chars.len() && (escaped || chars[end].1 != '"') {
                escaped = !escaped && chars[end].1 == '\\';
                end += 1;
            }
            if end == chars.len() {
                return Err(error("this string has no closing `\"`".into()));
            }
            let close = chars[end].0;
            let literal = &text[offset..=close];
            let s = serde_json::from_str::<String>(literal)
                .map_err(|e| error(format!("this string is not a JSON string: {e}")))?;
            (Kind::Str(s), end - i + 1)
        } else if c == '\'' {
            return Err(error(
                "strings are written in double quotes: \"like this\"".into(),
            ));
        } else if c.is_ascii_digit() || c == '-' {
            let end = (i + 1..chars.len())
                .find(|&j| {
                    let c = chars[j].1;
                    !(c.is_ascii_digit()
                        || matches!(c, '.' | 'e' | 'E' | '+')
                        || (c == '-' && matches!(chars[j - 1].1, 'e' | 'E')))
                })
                .unwrap_or(chars.len());
            let literal = &text[offset..chars.get(end).map_or(text.len(), |&(o, _)| o)];
            let number = serde_json::from_str::<serde_json::Number>(literal)
                .map_err(|_| error(format!("`{literal}` is not a number")))?;
            (Kind::Num(number), end - i)
        } else if is_name_start(c) {
            let end = (i + 1..chars.len())
                .find(|&j| !is_name_char(chars[j].1))
                .unwrap_or(chars.len());
            let name: String = chars[i..end].iter().map(|&(_, c)| c).collect();
            let kind = if name == "$" {
                Kind::Root
            } else {
                Kind::Name(name)
            };
            (kind, end - i)
        } else {
            return Err(error(format!("unexpected {c:?}")));
        };
        tokens.push(Token { kind, at });
        i += len;
    }
    Ok(tokens)
}

// ---- parsing ----

const KEYWORDS: &[&str] = &["and", "or", "not", "in", "exists", "true", "false", "null"];

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    depth: usize,
    /// The position just past the last character, for "found the end".
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn take(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { kind: Kind::Name(name), .. }) if name == word)
    }

    fn is(&self, kind: &Kind) -> bool {
        self.peek().is_some_and(|t| &t.kind == kind)
    }

    fn error_at(&self, token: &Token, message: String) -> FilterError {
        FilterError {
            at: token.at,
            message,
        }
    }

    /// "expected X, found Y" at the next token, or at the end.
    fn expected(&self, what: &str) -> FilterError {
        match self.peek() {
            Some(token) => self.error_at(token, format!("expected {what}, found {}", token.kind)),
            None => FilterError {
                at: self.end,
                message: format!("expected {what}, found the end of the filter"),
            },
        }
    }

    fn expect(&mut self, kind: Kind, what: &str) -> Result<(), FilterError> {
        if self.is(&kind) {
            self.next += 1;
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    fn deeper(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.expected(&format!(
                "less nesting (at most {MAX_DEPTH} levels of `not` and parentheses)"
            )));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut any = vec![self.and()?];
        while self.is_word("or") {
            self.next += 1;
            any.push(self.and()?);
        }
        Ok(if any.len() == 1 {
            any.remove(0)
        } else {
            Expr::Or(any)
        })
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut all = vec![self.unary()?];
        while self.is_word("and") {
            self.next += 1;
            all.push(self.unary()?);
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Expr::And(all)
        })
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.is_word("not") {
            self.next += 1;
            self.deeper()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.is(&Kind::Open) {
            self.next += 1;
            self.deeper()?;
            let inner = self.or()?;
            self.depth -= 1;
            self.expect(Kind::Close, "`)`")?;
            return Ok(inner);
        }
        if self.is_word("exists") {
            self.next += 1;
            self.expect(Kind::Open, "`(` after `exists`")?;
            let path = self.path()?;
            self.expect(Kind::Close, "`)` after the path")?;
            return Ok(Expr::Exists(path));
        }
        let path = self.path()?;
        if self.is_word("in") {
            self.next += 1;
            let values = self.list("`[` and the values to look for")?;
            return Ok(Expr::In(path, values));
        }
        match self.peek() {
            Some(Token {
                kind: Kind::Op(op), ..
            }) => {
                let op = *op;
                self.next += 1;
                let value = self.value(&format!("a value after `{}`", op_text(op)))?;
                Ok(Expr::Compare(path, op, value))
            }
            _ => Err(self.expected(
                "`==`, `!=`, `<`, `<=`, `>`, `>=` or `in` after the path \
                 (or write `exists(path)`)",
            )),
        }
    }

    fn path(&mut self) -> Result<Path, FilterError> {
        let mut steps = Vec::new();
        match self.peek().map(|t| &t.kind) {
            Some(Kind::Root) => self.next += 1,
            Some(Kind::Name(name)) if !KEYWORDS.contains(&name.as_str()) => {
                steps.push(Step::Key(name.clone()));
                self.next += 1;
            }
            _ => {
                return Err(self
                    .expected("a path into the payload, such as `data.amount` or `$[\"a key\"]`"));
            }
        }
        loop {
            if self.is(&Kind::Dot) {
                self.next += 1;
                match self.take() {
                    Some(Token {
                        kind: Kind::Name(name),
                        ..
                    }) => steps.push(Step::Key(name)),
                    _ => {
                        self.next -= 1;
                        return Err(self.expected("a key after `.` (or use `[\"a key\"]`)"));
                    }
                }
            } else if self.is(&Kind::OpenBracket) {
                self.next += 1;
                match self.take() {
                    Some(Token {
                        kind: Kind::Str(key),
                        ..
                    }) => steps.push(Step::Key(key)),
                    Some(Token {
                        kind: Kind::Num(n), ..
                    }) if n.as_u64().is_some() => {
                        let index = n.as_u64().unwrap_or_default();
                        steps.push(Step::Index(usize::try_from(index).unwrap_or(usize::MAX)));
                    }
                    _ => {
                        self.next -= 1;
                        return Err(self.expected("an index (`[0]`) or a key (`[\"a key\"]`)"));
                    }
                }
                self.expect(Kind::CloseBracket, "`]`")?;
            } else {
                return Ok(Path(steps));
            }
        }
    }

    fn value(&mut self, what: &str) -> Result<Value, FilterError> {
        if self.is(&Kind::OpenBracket) {
            return self.list(what).map(Value::Array);
        }
        let value = match self.peek().map(|t| &t.kind) {
            Some(Kind::Str(s)) => Value::String(s.clone()),
            Some(Kind::Num(n)) => Value::Number(n.clone()),
            Some(Kind::Name(word)) if word == "true" => Value::Bool(true),
            Some(Kind::Name(word)) if word == "false" => Value::Bool(false),
            Some(Kind::Name(word)) if word == "null" => Value::Null,
            Some(Kind::Name(_) | Kind::Root) => {
                return Err(self.expected(&format!(
                    "{what} (a string, number, true, false, null or a list; \
                     strings are in double quotes, and paths are compared with values only)"
                )));
            }
            _ => return Err(self.expected(what)),
        };
        self.next += 1;
        Ok(value)
    }

    fn list(&mut self, what: &str) -> Result<Vec<Value>, FilterError> {
        self.expect(Kind::OpenBracket, what)?;
        let mut values = Vec::new();
        loop {
            if values.len() == MAX_LIST {
                return Err(self.expected(&format!("`]`: a list holds at most {MAX_LIST} values")));
            }
            self.deeper()?;
            values.push(self.value("a value in the list")?);
            self.depth -= 1;
            if self.is(&Kind::Comma) {
                self.next += 1;
            } else {
                self.expect(Kind::CloseBracket, "`,` or `]`")?;
                return Ok(values);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(filter: &str, payload: &Value) -> bool {
        PayloadFilter::parse(filter)
            .unwrap_or_else(|e| panic!("{filter}: {e}"))
            .matches(payload)
    }

    fn refused(filter: &str) -> FilterError {
        PayloadFilter::parse(filter).expect_err(filter)
    }

    #[test]
    fn comparisons_read_paths_into_the_payload() {
        let payload = json!({
            "data": {"amount": 1500, "currency": "eur", "customer": {"email": null},
                     "items": [{"sku": "A-1"}, {"sku": "B-2"}], "odd key": true,
                     "at": "2026-12-07T05:00:00Z", "ratio": 0.25},
            "and": 1
        });
        assert!(check("data.amount > 1000", &payload));
        assert!(!check("data.amount > 1500", &payload));
        assert!(check(
            "data.amount >= 1500 and data.amount <= 1500.0",
            &payload
        ));
        assert!(check("data.amount == 1500.0", &payload));
        assert!(check("data.ratio < 1", &payload));
        assert!(check(r#"data.currency == "eur""#, &payload));
        assert!(check(r#"data.currency != "usd""#, &payload));
        assert!(check(r#"data.currency in ["usd", "eur"]"#, &payload));
        assert!(!check(r#"data.currency in ["usd", "gbp"]"#, &payload));
        assert!(check(r#"data.items[1].sku == "B-2""#, &payload));
        assert!(!check(r#"data.items[2].sku == "B-2""#, &payload));
        assert!(check(r#"data["odd key"] == true"#, &payload));
        assert!(check(r#"$["and"] == 1"#, &payload));
        assert!(check(r#"data.at > "2026-12-01T00:00:00Z""#, &payload));
        assert!(check(
            "data.items[0] == null",
            &json!({"data": {"items": [null]}})
        ));
        assert!(check(
            r#"data.tags == ["a", 1]"#,
            &json!({"data": {"tags": ["a", 1.0]}})
        ));
    }

    #[test]
    fn missing_paths_and_other_kinds_compare_false() {
        let payload = json!({"a": 1, "s": "10", "n": null});
        assert!(!check("b == 1", &payload));
        assert!(!check("b != 1", &payload));
        assert!(!check("b in [1]", &payload));
        assert!(!check("a.b == 1", &payload));
        assert!(!check(r#"s > 9"#, &payload));
        assert!(!check(r#"a == "1""#, &payload));
        assert!(check("n == null", &payload));
        assert!(check("exists(n)", &payload));
        assert!(!check("exists(b)", &payload));
        assert!(check("not exists(b)", &payload));
        assert!(check("$ == null", &Value::Null));
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let payload = json!({"a": 1, "b": 2});
        assert!(check("a == 1 or a == 5 and b == 5", &payload));
        assert!(!check("(a == 1 or a == 5) and b == 5", &payload));
        assert!(check("not (a == 5 or b == 5)", &payload));
        assert!(check("not not a == 1", &payload));
        assert!(check("a == 1 and (b == 2)", &payload));
    }

    #[test]
    fn large_integers_compare_exactly() {
        let payload = json!({"id": 9_007_199_254_740_993_u64});
        assert!(check("id == 9007199254740993", &payload));
        assert!(!check("id == 9007199254740992", &payload));
    }

    #[test]
    fn errors_say_where_and_what_was_expected() {
        assert_eq!(
            refused("amount == "),
            FilterError {
                at: 11,
                message: "expected a value after `==`, found the end of the filter".into()
            }
        );
        assert_eq!(refused("amount = 5").message, "equality is written `==`");
        assert_eq!(refused("amount = 5").at, 8);
        assert!(refused("amount == 'x'").message.contains("double quotes"));
        assert!(refused(r#"a == "x"#).message.contains("no closing"));
        assert!(
            refused("a == b")
                .message
                .contains("paths are compared with values only")
        );
        assert!(refused("a").message.contains("after the path"));
        assert!(refused("a == 1 b == 2").message.contains("found `b`"));
        assert_eq!(refused("a == 1 b == 2").at, 8);
        assert!(refused("(a == 1").message.contains("`)`"));
        assert!(refused("a in 1").message.contains("`[`"));
        assert!(refused("a in [1 2]").message.contains("`,` or `]`"));
        assert!(refused("and == 1").message.contains("a path"));
        assert!(refused("a. == 1").message.contains("a key after `.`"));
        assert!(refused("a[x] == 1").message.contains("an index"));
        assert!(refused("a == 1.2.3").message.contains("not a number"));
        assert!(refused("").message.contains("found the end"));
        assert!(refused("a == 1 # b").message.contains("unexpected '#'"));
        // Positions count characters, not bytes.
        assert_eq!(refused(r#"a == "é" b"#).at, 10);
    }

    #[test]
    fn nesting_and_size_are_bounded() {
        let deep = format!("{}a == 1{}", "(".repeat(40), ")".repeat(40));
        assert!(refused(&deep).message.contains("less nesting"));
        let nots = format!("{}a == 1", "not ".repeat(40));
        assert!(refused(&nots).message.contains("less nesting"));
        let nested_lists = format!("a == {}1{}", "[".repeat(40), "]".repeat(40));
        assert!(refused(&nested_lists).message.contains("less nesting"));
        let long = format!("a in [{}]", vec!["1"; 101].join(","));
        assert!(refused(&long).message.contains("at most 100 values"));
        let huge = format!("a == \"{}\"", "x".repeat(MAX_CHARS));
        assert!(refused(&huge).message.contains("at most 2000 characters"));
    }

    #[test]
    fn names_may_hold_dashes_and_dollars() {
        let payload = json!({"x-id": 3, "$type": "t"});
        assert!(check("x-id == 3", &payload));
        assert!(check(r#"$type == "t""#, &payload));
    }
}
