//! The simple calls as data (issue 15): each is a row of a table (the call's name for messages,
//! method, path, and its options: kind, wire name, query or body), and one function checks a
//! call's options against its row and builds the request. The binding reads the option values
//! from JS and sends; no Rust function per endpoint.

use super::api;
use super::decimal::decimal;
use super::error::{codes, ClientError};
use super::runtime::{Body, HttpRequest};
use crate::prelude::*;

/// How an option is read, and what its error message says it must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `signal`: an `AbortSignal` (the binding reads it; never sent).
    Signal,
    /// A boolean; absent: left out.
    Bool,
    /// A boolean sent as `false` when absent.
    Flag,
    /// An integer ≥ 0; absent: left out.
    Count,
    /// An integer in 1..=1e9 (`page`, `limit`); absent: left out.
    Positive,
    /// A string; absent: left out.
    Text,
    /// A required, non-empty string (`path`, `query`).
    Required,
    /// A required string, empty allowed (`content`).
    Content,
}

/// An option's value as the binding found it.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    /// `undefined` or `null` (or a valid signal, which the binding keeps).
    Absent,
    Bool(bool),
    Number(f64),
    Text(String),
    /// Anything else (an object, an array, a wrong signal).
    Other,
}

/// One option of a call: its name in the options object, its name on the wire, and whether it
/// goes in the JSON body (else the query).
#[derive(Debug)]
pub struct Field {
    pub option: &'static str,
    pub wire: &'static str,
    pub kind: Kind,
    pub body: bool,
}

/// One call: `call` names it in messages (`files.read(options)`).
#[derive(Debug)]
pub struct Endpoint {
    pub call: &'static str,
    pub method: &'static str,
    pub path: &'static str,
    /// The options object must be there (`{ path }`), else `undefined` counts as `{}`.
    pub required: bool,
    /// Checked and sent in this order.
    pub fields: &'static [Field],
}

const fn q(option: &'static str, wire: &'static str, kind: Kind) -> Field {
    Field {
        option,
        wire,
        kind,
        body: false,
    }
}

const fn b(option: &'static str, wire: &'static str, kind: Kind) -> Field {
    Field {
        option,
        wire,
        kind,
        body: true,
    }
}

const SIGNAL: Field = q("signal", "", Kind::Signal);
const PATH: Field = q("path", "path", Kind::Required);

const fn gateway(
    call: &'static str,
    method: &'static str,
    path: &'static str,
    fields: &'static [Field],
) -> Endpoint {
    Endpoint {
        call,
        method,
        path,
        required: true,
        fields,
    }
}

/// The options of `GET /files` and `GET /files/stream` (wire §3.2).
const LIST: &[Field] = &[
    PATH,
    SIGNAL,
    q("nested", "nested", Kind::Bool),
    q("flatten", "flatten", Kind::Bool),
    q("light", "light", Kind::Bool),
    q("includeHash", "include_hash", Kind::Bool),
    q("includeContent", "include_content", Kind::Bool),
    q("includeExtensions", "include_extensions", Kind::Bool),
    q("codeFilesOnly", "code_files_only", Kind::Bool),
    q("useGitignore", "use_gitignore", Kind::Bool),
    q("maxDepth", "max_depth", Kind::Count),
    q("pathFilter", "path_filter", Kind::Text),
    q("includeExt", "include_ext", Kind::Text),
    q("ignorePatterns", "ignore_patterns", Kind::Text),
    q("maxContentBudget", "max_content_budget", Kind::Count),
];

pub const FILES_LIST: Endpoint = gateway("files.list(options)", "GET", "/files", LIST);
pub const FILES_STREAM: Endpoint = gateway("files.stream(options)", "GET", "/files/stream", LIST);

pub const FILES_READ: Endpoint = gateway(
    "files.read(options)",
    "GET",
    "/files/read",
    &[
        PATH,
        SIGNAL,
        q("startLine", "start_line", Kind::Count),
        q("endLine", "end_line", Kind::Count),
        q("withLineNumbers", "with_line_numbers", Kind::Bool),
    ],
);

pub const FILES_STAT: Endpoint =
    gateway("files.stat(options)", "GET", "/files/stat", &[PATH, SIGNAL]);

const BODY_PATH: &[Field] = &[b("path", "path", Kind::Required), SIGNAL];

pub const FILES_MKDIR: Endpoint =
    gateway("files.mkdir(options)", "POST", "/files/mkdir", BODY_PATH);
pub const FILES_DELETE: Endpoint =
    gateway("files.delete(options)", "POST", "/files/delete", BODY_PATH);

pub const FILES_WRITE: Endpoint = gateway(
    "files.write(options)",
    "POST",
    "/files/write",
    &[
        b("path", "path", Kind::Required),
        SIGNAL,
        b("content", "content", Kind::Content),
        b("createDirs", "create_dirs", Kind::Flag),
        b("append", "append", Kind::Flag),
    ],
);

pub const SEARCH_CONTENT: Endpoint = gateway(
    "search.content(options)",
    "GET",
    "/files/search",
    &[
        q("query", "q", Kind::Required),
        q("path", "path", Kind::Text),
        q("caseSensitive", "case_sensitive", Kind::Bool),
        q("regex", "regex", Kind::Bool),
        q("wholeWord", "whole_word", Kind::Bool),
        q("maxResults", "max_results", Kind::Count),
        q("timeout", "timeout", Kind::Count),
        q("contextLines", "context_lines", Kind::Count),
        q("fileTypes", "file_types", Kind::Text),
        q("includeHidden", "include_hidden", Kind::Bool),
        q("noGitignore", "no_gitignore", Kind::Bool),
        q("ignorePatterns", "ignore_patterns", Kind::Text),
        SIGNAL,
    ],
);

pub const SEARCH_FILES: Endpoint = gateway(
    "search.files(options)",
    "GET",
    "/files/search/files",
    &[
        q("query", "q", Kind::Required),
        q("path", "path", Kind::Text),
        q("caseSensitive", "case_sensitive", Kind::Bool),
        q("includeHidden", "include_hidden", Kind::Bool),
        q("maxResults", "max_results", Kind::Count),
        q("ignorePatterns", "ignore_patterns", Kind::Text),
        SIGNAL,
    ],
);

const fn optional(call: &'static str, path: &'static str) -> Endpoint {
    Endpoint {
        call,
        method: "GET",
        path,
        required: false,
        fields: &[SIGNAL],
    }
}

pub const HEALTH: Endpoint = optional("health(options)", "/health");
pub const INFO: Endpoint = optional("info(options)", "/runtime");

/// `client.workspaces.list` (the API, with the session token).
pub const WORKSPACES_LIST: Endpoint = Endpoint {
    call: "workspaces.list(options)",
    method: "GET",
    path: "/workspace",
    required: false,
    fields: &[
        SIGNAL,
        q("page", "page", Kind::Positive),
        q("limit", "limit", Kind::Positive),
        q("status", "status", Kind::Text),
    ],
};

/// `{call}: {subject} must be {rule}` (`invalid_options`).
pub fn invalid(call: &str, subject: &str, rule: &str) -> ClientError {
    let mut message = String::from(call);
    message.push_str(": ");
    message.push_str(subject);
    message.push_str(" must be ");
    message.push_str(rule);
    ClientError::new(codes::INVALID_OPTIONS, message)
}

/// `value` checked against `kind`, as its wire text: `Ok(None)` when absent and optional,
/// else what it must be.
fn check(kind: Kind, value: Seen) -> Result<Option<String>, &'static str> {
    let integer = |n: f64, min: f64, max: f64, rule| {
        if n >= min && n <= max && super::float::is_whole(n) {
            Ok(Some(decimal(n as u64)))
        } else {
            Err(rule)
        }
    };
    match (kind, value) {
        (Kind::Flag, Seen::Absent) => Ok(Some("false".into())),
        (Kind::Required, Seen::Absent) => Err("a non-empty string"),
        (Kind::Required, Seen::Text(s)) if s.is_empty() => Err("a non-empty string"),
        (Kind::Content, Seen::Absent) => Err("a string"),
        (_, Seen::Absent) => Ok(None),
        (Kind::Bool | Kind::Flag, Seen::Bool(b)) => {
            Ok(Some(if b { "true" } else { "false" }.into()))
        }
        (Kind::Text | Kind::Required | Kind::Content, Seen::Text(s)) => Ok(Some(s)),
        (Kind::Signal, _) => Err("an AbortSignal"),
        (Kind::Bool | Kind::Flag, _) => Err("a boolean"),
        (Kind::Count, value) => {
            let n = if let Seen::Number(n) = value {
                n
            } else {
                f64::NAN
            };
            integer(n, 0.0, 9_007_199_254_740_991.0, "an integer ≥ 0")
        }
        (Kind::Positive, value) => {
            let n = if let Seen::Number(n) = value {
                n
            } else {
                f64::NAN
            };
            integer(n, 1.0, 1e9, "a positive integer")
        }
        // A wrong type: `Options::string`'s message, for required strings too.
        (Kind::Text | Kind::Required | Kind::Content, _) => Err("a string"),
    }
}

/// `value` as a JSON string, as `JSON.stringify` writes it.
fn quote(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' => {
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The request of `endpoint` on `base` from the values `read` finds for its options (asked in
/// the table's order; the first wrong one is the error, naming the call and the option).
pub fn build(
    endpoint: &Endpoint,
    base: &str,
    read: &mut dyn FnMut(&Field) -> Seen,
) -> Result<HttpRequest, ClientError> {
    let mut query: Vec<(&str, Option<String>)> = Vec::new();
    let mut body: Option<String> = None;
    for field in endpoint.fields {
        let value = check(field.kind, read(field)).map_err(|rule| {
            let mut subject = String::from("options.");
            subject.push_str(field.option);
            invalid(endpoint.call, &subject, rule)
        })?;
        // Absent optional values are left out, as `JSON.stringify` leaves out `undefined`.
        let (Some(value), false) = (value, field.kind == Kind::Signal) else {
            continue;
        };
        if !field.body {
            query.push((field.wire, Some(value)));
            continue;
        }
        let json = body.get_or_insert_with(|| String::from("{"));
        if json.len() > 1 {
            json.push(',');
        }
        quote(json, field.wire);
        json.push(':');
        match field.kind {
            Kind::Text | Kind::Required | Kind::Content => quote(json, &value),
            _ => json.push_str(&value),
        }
    }
    Ok(HttpRequest {
        method: endpoint.method,
        url: api::url(base, endpoint.path, &query),
        body: body.map(|mut json| {
            json.push('}');
            Body::Json(json)
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(endpoint: &Endpoint, values: &[(&str, Seen)]) -> Result<HttpRequest, ClientError> {
        let values: HashMap<&str, Seen> = values.iter().cloned().collect();
        let mut read = |field: &Field| values.get(field.option).cloned().unwrap_or(Seen::Absent);
        build(endpoint, "http://g/", &mut read)
    }

    /// The request `run` built; a test failure naming the error otherwise.
    fn built(result: Result<HttpRequest, ClientError>) -> HttpRequest {
        match result {
            Ok(request) => request,
            Err(error) => panic!("expected a request, got {}", error.message),
        }
    }

    fn text(s: &str) -> Seen {
        Seen::Text(s.into())
    }

    fn message(result: Result<HttpRequest, ClientError>) -> String {
        result.err().map(|e| e.message).unwrap_or_default()
    }

    fn body(request: &HttpRequest) -> &str {
        match &request.body {
            Some(Body::Json(json)) => json,
            _ => "",
        }
    }

    #[test]
    fn queries_in_table_order() {
        let r = built(run(
            &FILES_LIST,
            &[
                ("maxDepth", Seen::Number(2.0)),
                ("nested", Seen::Bool(true)),
                ("path", text("/a b")),
                ("pathFilter", text("x&y")),
            ],
        ));
        assert_eq!(r.method, "GET");
        assert_eq!(
            r.url,
            "http://g/files?path=%2Fa%20b&nested=true&max_depth=2&path_filter=x%26y"
        );
        assert!(r.body.is_none());
        let r = run(
            &SEARCH_FILES,
            &[("query", text("q")), ("maxResults", Seen::Number(0.0))],
        );
        assert_eq!(
            built(r).url,
            "http://g/files/search/files?q=q&max_results=0"
        );
        let r = built(run(&HEALTH, &[]));
        assert_eq!(r.url, "http://g/health");
        let r = run(
            &WORKSPACES_LIST,
            &[("limit", Seen::Number(5.0)), ("status", text("running"))],
        );
        assert_eq!(built(r).url, "http://g/workspace?limit=5&status=running");
    }

    #[test]
    fn bodies_as_json_stringify_writes_them() {
        let r = built(run(
            &FILES_WRITE,
            &[("path", text("/f")), ("content", text(""))],
        ));
        assert_eq!(r.method, "POST");
        assert_eq!(r.url, "http://g/files/write");
        assert_eq!(
            body(&r),
            r#"{"path":"/f","content":"","create_dirs":false,"append":false}"#
        );
        let r = built(run(
            &FILES_WRITE,
            &[
                ("path", text("/f")),
                ("content", text("a\"b\\\n\t\u{1}\u{1f}é\u{2028}")),
                ("append", Seen::Bool(true)),
            ],
        ));
        assert_eq!(
            body(&r),
            "{\"path\":\"/f\",\"content\":\"a\\\"b\\\\\\n\\t\\u0001\\u001fé\u{2028}\",\"create_dirs\":false,\"append\":true}"
        );
        let r = built(run(&FILES_MKDIR, &[("path", text("/d"))]));
        assert_eq!(body(&r), r#"{"path":"/d"}"#);
    }

    #[test]
    fn errors_name_the_call_and_the_option() {
        assert_eq!(
            message(run(&FILES_READ, &[])),
            "files.read(options): options.path must be a non-empty string"
        );
        assert_eq!(
            message(run(&FILES_READ, &[("path", text(""))])),
            "files.read(options): options.path must be a non-empty string"
        );
        assert_eq!(
            message(run(
                &FILES_READ,
                &[("path", text("/")), ("startLine", Seen::Number(1.5))]
            )),
            "files.read(options): options.startLine must be an integer ≥ 0"
        );
        assert_eq!(
            message(run(&FILES_READ, &[("path", Seen::Number(1.0))])),
            "files.read(options): options.path must be a string"
        );
        assert_eq!(
            message(run(&SEARCH_FILES, &[("query", Seen::Bool(true))])),
            "search.files(options): options.query must be a string"
        );
        assert_eq!(
            message(run(
                &SEARCH_FILES,
                &[("query", text("q")), ("path", Seen::Other)]
            )),
            "search.files(options): options.path must be a string"
        );
        assert_eq!(
            message(run(
                &FILES_WRITE,
                &[("path", text("/")), ("content", Seen::Number(1.0))]
            )),
            "files.write(options): options.content must be a string"
        );
        assert_eq!(
            message(run(
                &FILES_READ,
                &[("path", text("/")), ("endLine", text("3"))]
            )),
            "files.read(options): options.endLine must be an integer ≥ 0"
        );
        assert_eq!(
            message(run(&FILES_WRITE, &[("path", text("/"))])),
            "files.write(options): options.content must be a string"
        );
        assert_eq!(
            message(run(
                &FILES_WRITE,
                &[
                    ("path", text("/")),
                    ("content", text("")),
                    ("append", text("y"))
                ]
            )),
            "files.write(options): options.append must be a boolean"
        );
        assert_eq!(
            message(run(
                &FILES_STAT,
                &[("path", text("/")), ("signal", Seen::Other)]
            )),
            "files.stat(options): options.signal must be an AbortSignal"
        );
        assert_eq!(
            message(run(&WORKSPACES_LIST, &[("page", Seen::Number(0.0))])),
            "workspaces.list(options): options.page must be a positive integer"
        );
        assert_eq!(
            message(run(&WORKSPACES_LIST, &[("limit", Seen::Number(1e9 + 1.0))])),
            "workspaces.list(options): options.limit must be a positive integer"
        );
        assert_eq!(
            message(run(
                &SEARCH_CONTENT,
                &[("query", text("x")), ("regex", Seen::Number(1.0))]
            )),
            "search.content(options): options.regex must be a boolean"
        );
        // The first wrong option in the table's order.
        assert_eq!(
            message(run(
                &FILES_LIST,
                &[("signal", Seen::Other), ("nested", Seen::Other)]
            )),
            "files.list(options): options.path must be a non-empty string"
        );
        let err = run(
            &FILES_LIST,
            &[("path", text("/")), ("maxDepth", Seen::Number(-1.0))],
        );
        assert_eq!(
            err.err().map(|e| e.code),
            Some(codes::INVALID_OPTIONS.into())
        );
        for bad in [f64::NAN, f64::INFINITY, -0.5, 9_007_199_254_740_992.0] {
            assert!(run(
                &FILES_READ,
                &[("path", text("/")), ("endLine", Seen::Number(bad))]
            )
            .is_err());
        }
    }
}
