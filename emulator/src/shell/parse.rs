//! The emulated shell's grammar: a line is a list of commands joined by `;` (or a newline), `&&`
//! and `||`; a command is words plus redirections. Words split on unquoted blanks; `'…'` is
//! literal, `"…"` honours `\"`, `\\`, `\$` and `` \` ``; a backslash outside quotes escapes the
//! next character (and a backslash-newline joins lines); `#` at the start of a word starts a
//! comment; an unquoted `~` or `~/…` word start is the home directory.
//!
//! Redirections: `>` and `>>` (stdout to a file), `2>` and `2>>` (stderr), `2>&1`, `>&2` /
//! `1>&2`. Not supported (a syntax error naming it, exit 2): pipes `|`, background `&`, input
//! redirection `<`. No variables, globs or command substitution: `$HOME`, `*` and `` ` `` are
//! literal text.

/// How a command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connector {
    /// First command, or after `;` / a newline: always runs.
    Seq,
    /// After `&&`: runs when the previous status is 0.
    And,
    /// After `||`: runs when the previous status is not 0.
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// `> path` (`append: false`) or `>> path`.
    Stdout { path: String, append: bool },
    /// `2> path` or `2>> path`.
    Stderr { path: String, append: bool },
    /// `2>&1`: stderr goes wherever stdout goes at this point.
    StderrToStdout,
    /// `>&2` / `1>&2`: stdout goes wherever stderr goes at this point.
    StdoutToStderr,
}

/// One simple command: its argv (may be empty, e.g. `> file` alone) and redirections in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Command {
    pub argv: Vec<String>,
    pub redirects: Vec<Redirect>,
}

/// A parsed line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub commands: Vec<(Connector, Command)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// An opening quote without its closing one.
    UnterminatedQuote,
    /// An operator where a command was expected, or a redirection without its file.
    UnexpectedToken(String),
    /// A construct the emulated shell does not implement (`|`, `&`, `<`).
    Unsupported(&'static str),
}

impl ParseError {
    /// What `sh` prints for it (without the trailing newline).
    pub fn message(&self) -> String {
        match self {
            ParseError::UnterminatedQuote => "sh: syntax error: unterminated quoted string".into(),
            ParseError::UnexpectedToken(t) => {
                format!("sh: syntax error near unexpected token `{t}'")
            }
            ParseError::Unsupported(what) => {
                format!("sh: {what} is not supported by the emulated shell")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Semi,
    Newline,
    AndIf,
    OrIf,
    /// `>`/`>>` (fd 1) or `2>`/`2>>`.
    RedirectTo {
        fd: u8,
        append: bool,
    },
    /// `2>&1` (fd 2 → 1) or `>&2` (fd 1 → 2).
    Dup {
        fd: u8,
    },
}

fn token_text(token: &Token) -> String {
    match token {
        Token::Word(w) => w.clone(),
        Token::Semi => ";".into(),
        Token::Newline => "newline".into(),
        Token::AndIf => "&&".into(),
        Token::OrIf => "||".into(),
        Token::RedirectTo { fd: 2, append } => if *append { "2>>" } else { "2>" }.into(),
        Token::RedirectTo { append, .. } => if *append { ">>" } else { ">" }.into(),
        Token::Dup { fd: 2 } => "2>&1".into(),
        Token::Dup { .. } => ">&2".into(),
    }
}

/// Splits a line into tokens. `home` replaces an unquoted leading `~`.
fn tokenize(line: &str, home: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = line.chars().collect();
    let mut tokens = Vec::new();
    let mut word = String::new();
    // A word is in progress (even an empty one, after `''`).
    let mut in_word = false;
    // The word so far came from plain unquoted characters only (for `2>` and `~`).
    let mut plain = true;
    let mut i = 0;
    macro_rules! finish_word {
        () => {
            if in_word {
                tokens.push(Token::Word(std::mem::take(&mut word)));
                in_word = false;
                plain = true;
            }
        };
    }
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' => {
                finish_word!();
                i += 1;
            }
            '\n' => {
                finish_word!();
                tokens.push(Token::Newline);
                i += 1;
            }
            '#' if !in_word => {
                // A comment to the end of the line.
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\'' => {
                in_word = true;
                plain = false;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(ParseError::UnterminatedQuote),
                        Some('\'') => break,
                        Some(&ch) => word.push(ch),
                    }
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                in_word = true;
                plain = false;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(ParseError::UnterminatedQuote),
                        Some('"') => break,
                        Some('\\') => match chars.get(i + 1) {
                            Some(&next @ ('"' | '\\' | '$' | '`')) => {
                                word.push(next);
                                i += 1;
                            }
                            Some('\n') => i += 1,
                            _ => word.push('\\'),
                        },
                        Some(&ch) => word.push(ch),
                    }
                    i += 1;
                }
                i += 1;
            }
            '\\' => {
                match chars.get(i + 1) {
                    Some('\n') => {}
                    Some(&next) => {
                        word.push(next);
                        in_word = true;
                        plain = false;
                    }
                    None => {
                        word.push('\\');
                        in_word = true;
                    }
                }
                i += 2;
            }
            ';' => {
                finish_word!();
                if chars.get(i + 1) == Some(&';') {
                    return Err(ParseError::UnexpectedToken(";;".into()));
                }
                tokens.push(Token::Semi);
                i += 1;
            }
            '&' => {
                if chars.get(i + 1) == Some(&'&') {
                    finish_word!();
                    tokens.push(Token::AndIf);
                    i += 2;
                } else {
                    return Err(ParseError::Unsupported("background execution (&)"));
                }
            }
            '|' => {
                if chars.get(i + 1) == Some(&'|') {
                    finish_word!();
                    tokens.push(Token::OrIf);
                    i += 2;
                } else {
                    return Err(ParseError::Unsupported("a pipe (|)"));
                }
            }
            '<' => return Err(ParseError::Unsupported("input redirection (<)")),
            '>' => {
                // `2>…` / `1>…` when the word so far is exactly that digit, unquoted.
                let fd = if in_word && plain && (word == "2" || word == "1") {
                    let fd = if word == "2" { 2 } else { 1 };
                    word.clear();
                    in_word = false;
                    fd
                } else {
                    finish_word!();
                    1
                };
                i += 1;
                if chars.get(i) == Some(&'&') {
                    let target = chars.get(i + 1).copied();
                    match (fd, target) {
                        (2, Some('1')) | (1, Some('2')) => {
                            tokens.push(Token::Dup { fd });
                            i += 2;
                        }
                        _ => {
                            return Err(ParseError::Unsupported("this file descriptor duplication"))
                        }
                    }
                    continue;
                }
                let append = chars.get(i) == Some(&'>');
                if append {
                    i += 1;
                }
                tokens.push(Token::RedirectTo { fd, append });
            }
            '~' if !in_word => {
                let next = chars.get(i + 1).copied();
                if next.is_none_or(|n| matches!(n, '/' | ' ' | '\t' | '\n' | ';' | '&' | '|' | '>'))
                {
                    word.push_str(home);
                } else {
                    word.push('~');
                    plain = false;
                }
                in_word = true;
                i += 1;
            }
            _ => {
                word.push(c);
                in_word = true;
                i += 1;
            }
        }
    }
    if in_word {
        tokens.push(Token::Word(word));
    }
    Ok(tokens)
}

/// Parses one line (which may hold newlines). `home` is what `~` expands to.
pub fn parse(line: &str, home: &str) -> Result<Script, ParseError> {
    let tokens = tokenize(line, home)?;
    let mut script = Script::default();
    let mut current = Command::default();
    // True while `current` holds nothing (no word, no redirection).
    let mut empty = true;
    let mut connector = Connector::Seq;
    let mut iter = tokens.into_iter();
    while let Some(token) = iter.next() {
        match token {
            Token::Word(w) => {
                current.argv.push(w);
                empty = false;
            }
            Token::RedirectTo { fd, append } => {
                let path = match iter.next() {
                    Some(Token::Word(w)) => w,
                    Some(other) => return Err(ParseError::UnexpectedToken(token_text(&other))),
                    None => return Err(ParseError::UnexpectedToken("newline".into())),
                };
                current.redirects.push(if fd == 2 {
                    Redirect::Stderr { path, append }
                } else {
                    Redirect::Stdout { path, append }
                });
                empty = false;
            }
            Token::Dup { fd } => {
                current.redirects.push(if fd == 2 {
                    Redirect::StderrToStdout
                } else {
                    Redirect::StdoutToStderr
                });
                empty = false;
            }
            Token::Semi | Token::Newline | Token::AndIf | Token::OrIf => {
                if empty {
                    // Blank lines, and a newline after `a;` or `a &&`, are fine; `; x`,
                    // `a && && b` and `a ;; b` are not.
                    if token == Token::Newline {
                        continue;
                    }
                    return Err(ParseError::UnexpectedToken(token_text(&token)));
                }
                script
                    .commands
                    .push((connector, std::mem::take(&mut current)));
                empty = true;
                connector = match token {
                    Token::AndIf => Connector::And,
                    Token::OrIf => Connector::Or,
                    _ => Connector::Seq,
                };
            }
        }
    }
    if !empty {
        script.commands.push((connector, current));
    } else if connector != Connector::Seq {
        // `a &&` at the end of the line.
        return Err(ParseError::UnexpectedToken("newline".into()));
    }
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argvs(line: &str) -> Vec<Vec<String>> {
        parse(line, "/root")
            .unwrap_or_else(|e| panic!("{line}: {e:?}"))
            .commands
            .into_iter()
            .map(|(_, c)| c.argv)
            .collect()
    }

    fn words(line: &str) -> Vec<String> {
        let mut all = argvs(line);
        assert_eq!(all.len(), 1, "{line}: one command");
        all.remove(0)
    }

    #[test]
    fn splits_words_on_blanks() {
        assert_eq!(words("echo  a\tb "), ["echo", "a", "b"]);
        assert!(parse("", "/").unwrap().commands.is_empty());
        assert!(parse("   ", "/").unwrap().commands.is_empty());
    }

    #[test]
    fn quotes() {
        assert_eq!(words("echo 'a  b' \"c  d\""), ["echo", "a  b", "c  d"]);
        assert_eq!(words("echo 'it''s'"), ["echo", "its"]);
        assert_eq!(
            words(r#"echo "say \"hi\" \\ \$x \n""#),
            ["echo", r#"say "hi" \ $x \n"#]
        );
        assert_eq!(
            words(r#"echo 'no \escape "here"'"#),
            ["echo", r#"no \escape "here""#]
        );
        assert_eq!(words("echo a'b'\"c\"d"), ["echo", "abcd"]);
        assert_eq!(words("echo '' \"\""), ["echo", "", ""]);
        assert_eq!(words(r"echo a\ b \; \'"), ["echo", "a b", ";", "'"]);
        assert_eq!(words("echo 'a;b && c > d'"), ["echo", "a;b && c > d"]);
        assert_eq!(words("echo ü 世界"), ["echo", "ü", "世界"]);
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(parse("echo 'a", "/"), Err(ParseError::UnterminatedQuote));
        assert_eq!(parse("echo \"a", "/"), Err(ParseError::UnterminatedQuote));
        assert_eq!(
            parse("echo \"a\\\"", "/"),
            Err(ParseError::UnterminatedQuote)
        );
    }

    #[test]
    fn connectors() {
        let script = parse("a; b && c || d\ne", "/").unwrap();
        let shape: Vec<_> = script
            .commands
            .iter()
            .map(|(c, cmd)| (*c, cmd.argv[0].as_str()))
            .collect();
        assert_eq!(
            shape,
            [
                (Connector::Seq, "a"),
                (Connector::Seq, "b"),
                (Connector::And, "c"),
                (Connector::Or, "d"),
                (Connector::Seq, "e"),
            ]
        );
        assert_eq!(argvs("a;b;"), [["a"], ["b"]]);
        assert_eq!(argvs("a&&b"), [["a"], ["b"]]);
        assert_eq!(argvs("\n\na\n\n"), [["a"]]);
        assert_eq!(argvs("a;\nb &&\nc"), [["a"], ["b"], ["c"]]);
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "&& a",
            "; a",
            "a && && b",
            "a &&",
            "a ||",
            "a ;; b",
            "a; ; b",
            "a && ; b",
            "echo >",
            "echo > ;",
        ] {
            assert!(
                matches!(parse(bad, "/"), Err(ParseError::UnexpectedToken(_))),
                "{bad}: {:?}",
                parse(bad, "/")
            );
        }
        assert!(matches!(
            parse("a | b", "/"),
            Err(ParseError::Unsupported(_))
        ));
        assert!(matches!(
            parse("sleep 1 &", "/"),
            Err(ParseError::Unsupported(_))
        ));
        assert!(matches!(
            parse("cat < f", "/"),
            Err(ParseError::Unsupported(_))
        ));
        assert!(ParseError::UnexpectedToken("&&".into())
            .message()
            .contains("`&&'"));
    }

    #[test]
    fn redirections() {
        let script = parse("echo hi > out.txt", "/").unwrap();
        let (_, cmd) = &script.commands[0];
        assert_eq!(cmd.argv, ["echo", "hi"]);
        assert_eq!(
            cmd.redirects,
            [Redirect::Stdout {
                path: "out.txt".into(),
                append: false
            }]
        );
        let script = parse("echo a>>f 2>e 2>>g 2>&1 >&2 'x y'", "/").unwrap();
        let (_, cmd) = &script.commands[0];
        assert_eq!(cmd.argv, ["echo", "a", "x y"]);
        assert_eq!(
            cmd.redirects,
            [
                Redirect::Stdout {
                    path: "f".into(),
                    append: true
                },
                Redirect::Stderr {
                    path: "e".into(),
                    append: false
                },
                Redirect::Stderr {
                    path: "g".into(),
                    append: true
                },
                Redirect::StderrToStdout,
                Redirect::StdoutToStderr,
            ]
        );
        // A quoted 2 is a word; `a2>f` keeps `a2`.
        let script = parse("echo '2'>f a2>g", "/").unwrap();
        assert_eq!(script.commands[0].1.argv, ["echo", "2", "a2"]);
        // Redirect target in quotes; a redirection alone is a command.
        let script = parse("> 'my file'", "/").unwrap();
        assert!(script.commands[0].1.argv.is_empty());
        assert_eq!(
            script.commands[0].1.redirects,
            [Redirect::Stdout {
                path: "my file".into(),
                append: false
            }]
        );
    }

    #[test]
    fn comments_tilde_and_continuations() {
        assert_eq!(words("echo a # b c"), ["echo", "a"]);
        assert_eq!(words("echo a#b"), ["echo", "a#b"]);
        assert_eq!(argvs("# only a comment"), Vec::<Vec<String>>::new());
        assert_eq!(
            words("cd ~/x ~ a~ '~'"),
            ["cd", "/root/x", "/root", "a~", "~"]
        );
        assert_eq!(words("echo a\\\nb"), ["echo", "ab"]);
        assert_eq!(words("echo trailing\\"), ["echo", "trailing\\"]);
    }

    #[test]
    fn sh_c_nested_quoting() {
        assert_eq!(
            words(r#"sh -c "echo 'one two'; echo \"three\"""#),
            ["sh", "-c", r#"echo 'one two'; echo "three""#]
        );
    }
}
