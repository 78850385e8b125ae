//! The shell's commands. Each reads and writes the workspace's tree through the session
//! ([`Shell::view`], [`Shell::mutate`]) and its I/O through [`Ctx`]. Messages and statuses follow
//! GNU coreutils and dash.

use super::{BrokenPipe, Ctx, Io, Output, Shell, HOME, MAX_DEPTH};
use crate::gateway::files::{FsError, FsOp, Node};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::sync::mpsc;

type Status = Result<i32, BrokenPipe>;

/// The built-in names, for `command not found` and documentation.
pub const NAMES: &[&str] = &[
    "echo", "pwd", "cd", "ls", "cat", "mkdir", "rm", "touch", "true", "false", ":", "sleep", "seq",
    "exit", "sh", "bash", "whoami", "uname", "hostname",
];

/// `/bin/echo` → `echo`, for the usual binary folders.
fn command_name(arg0: &str) -> &str {
    for dir in [
        "/bin/",
        "/usr/bin/",
        "/usr/local/bin/",
        "/sbin/",
        "/usr/sbin/",
    ] {
        if let Some(name) = arg0.strip_prefix(dir) {
            if NAMES.contains(&name) {
                return name;
            }
        }
    }
    arg0
}

/// Runs one command.
pub async fn run(shell: &mut Shell, argv: &[String], ctx: &mut Ctx<'_>) -> Status {
    let Some((arg0, args)) = argv.split_first() else {
        return Ok(0);
    };
    match command_name(arg0) {
        "echo" => echo(args, ctx).await,
        "pwd" => {
            ctx.stdout(format!("{}\n", shell.cwd)).await?;
            Ok(0)
        }
        "cd" => cd(shell, args, ctx).await,
        "ls" => ls(shell, args, ctx).await,
        "cat" => cat(shell, args, ctx).await,
        "mkdir" => mkdir(shell, args, ctx).await,
        "rm" => rm(shell, args, ctx).await,
        "touch" => touch(shell, args, ctx).await,
        "true" | ":" => Ok(0),
        "false" => Ok(1),
        "sleep" => sleep(args, ctx).await,
        "seq" => seq(args, ctx).await,
        "exit" => exit(shell, args, ctx).await,
        "sh" | "bash" => sh(shell, args, ctx).await,
        "whoami" => {
            ctx.stdout("root\n").await?;
            Ok(0)
        }
        "hostname" => {
            ctx.stdout(format!("{}\n", shell.workspace_id)).await?;
            Ok(0)
        }
        "uname" => uname(args, ctx).await,
        other => {
            ctx.stderr(format!("sh: {other}: command not found\n"))
                .await?;
            Ok(127)
        }
    }
}

/// Splits leading `-abc` flags (until `--` or the first non-flag) into letters; long options
/// are returned as they are. `-` alone is an operand.
fn split_flags(args: &[String]) -> (Vec<String>, &[String]) {
    let mut flags = Vec::new();
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            i += 1;
            break;
        }
        if arg.starts_with("--") {
            flags.push(arg.clone());
        } else if arg.len() > 1 && arg.starts_with('-') {
            flags.extend(arg[1..].chars().map(|c| c.to_string()));
        } else {
            break;
        }
        i += 1;
    }
    (flags, &args[i..])
}

/// Refuses any flag not in `allowed` (letters or long names) with coreutils' message.
async fn check_flags(
    cmd: &str,
    flags: &[String],
    allowed: &[&str],
    ctx: &mut Ctx<'_>,
) -> Result<bool, BrokenPipe> {
    for flag in flags {
        if !allowed.contains(&flag.as_str()) {
            let shown = if flag.starts_with("--") {
                format!("unrecognized option '{flag}'")
            } else {
                format!("invalid option -- '{flag}'")
            };
            ctx.stderr(format!("{cmd}: {shown}\n")).await?;
            return Ok(false);
        }
    }
    Ok(true)
}

async fn echo(args: &[String], ctx: &mut Ctx<'_>) -> Status {
    let mut newline = true;
    let mut escapes = false;
    let mut words = args;
    // Only arguments made of n/e/E letters are options (as in bash's echo).
    while let Some(first) = words.first() {
        let letters = first.strip_prefix('-').unwrap_or("");
        if letters.is_empty() || !letters.chars().all(|c| matches!(c, 'n' | 'e' | 'E')) {
            break;
        }
        for c in letters.chars() {
            match c {
                'n' => newline = false,
                'e' => escapes = true,
                _ => escapes = false,
            }
        }
        words = &words[1..];
    }
    let mut out = words.join(" ");
    if escapes {
        out = unescape(&out);
    }
    if newline {
        out.push('\n');
    }
    ctx.stdout(out).await?;
    Ok(0)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some('0') => out.push('\0'),
            Some('a') => out.push('\u{7}'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

async fn cd(shell: &mut Shell, args: &[String], ctx: &mut Ctx<'_>) -> Status {
    if args.len() > 1 {
        ctx.stderr("sh: cd: too many arguments\n").await?;
        return Ok(1);
    }
    let (target, print) = match args.first().map(String::as_str) {
        None | Some("") => (HOME.to_string(), false),
        Some("-") => match &shell.oldpwd {
            Some(old) => (old.clone(), true),
            None => {
                ctx.stderr("sh: cd: OLDPWD not set\n").await?;
                return Ok(1);
            }
        },
        Some(dir) => (dir.to_string(), false),
    };
    let resolved = shell.resolve(&target);
    let node = resolved.as_ref().ok().map(|path| {
        shell
            .view(|t| match t.get(path) {
                Some(Node::Dir { .. }) => Ok(()),
                Some(Node::File { .. }) => Err(FsError::NotADirectory),
                None => Err(FsError::NotFound),
            })
            .and_then(|r| r)
    });
    match (resolved, node) {
        (Ok(path), Some(Ok(()))) => {
            shell.oldpwd = Some(std::mem::replace(&mut shell.cwd, path));
            if print {
                ctx.stdout(format!("{}\n", shell.cwd)).await?;
            }
            Ok(0)
        }
        (_, Some(Err(e))) | (Err(e), _) => {
            ctx.stderr(format!("sh: cd: {target}: {}\n", e.strerror()))
                .await?;
            Ok(1)
        }
        (Ok(_), None) => Ok(1),
    }
}

/// A listing line for `ls -l`.
fn long_line(name: &str, node: &Node) -> String {
    let (mode, links, size) = match node {
        Node::Dir { .. } => ("drwxr-xr-x", 2, 4096),
        Node::File { content, .. } => ("-rw-r--r--", 1, content.len()),
    };
    format!("{mode} {links} root root {size:>8} {name}\n")
}

async fn ls(shell: &mut Shell, args: &[String], ctx: &mut Ctx<'_>) -> Status {
    let (flags, operands) = split_flags(args);
    if !check_flags("ls", &flags, &["a", "A", "l", "1", "h", "F", "--all"], ctx).await? {
        return Ok(2);
    }
    let all = flags.iter().any(|f| f == "a" || f == "--all");
    let almost_all = flags.iter().any(|f| f == "A");
    let long = flags.iter().any(|f| f == "l");
    let targets: Vec<String> = if operands.is_empty() {
        vec![".".to_string()]
    } else {
        operands.to_vec()
    };
    let mut status = 0;
    let many = targets.len() > 1;
    for (i, shown) in targets.iter().enumerate() {
        let listing = shell.resolve(shown).ok().and_then(|path| {
            shell
                .view(|t| match t.get(&path) {
                    None => None,
                    Some(node @ Node::File { .. }) => Some(if long {
                        long_line(shown, node)
                    } else {
                        format!("{shown}\n")
                    }),
                    Some(dir @ Node::Dir { .. }) => {
                        let mut out = String::new();
                        if many {
                            if i > 0 {
                                out.push('\n');
                            }
                            out.push_str(&format!("{shown}:\n"));
                        }
                        if all {
                            for dot in [".", ".."] {
                                out.push_str(&if long {
                                    long_line(dot, dir)
                                } else {
                                    format!("{dot}\n")
                                });
                            }
                        }
                        if let Ok((_, children)) = t.descendants(&path, Some(1)) {
                            for (child, node) in children {
                                let name = crate::gateway::files::name_of(child);
                                if name.starts_with('.') && !(all || almost_all) {
                                    continue;
                                }
                                out.push_str(&if long {
                                    long_line(name, node)
                                } else {
                                    format!("{name}\n")
                                });
                            }
                        }
                        Some(out)
                    }
                })
                .ok()
                .flatten()
        });
        match listing {
            Some(text) => ctx.stdout(text).await?,
            None => {
                ctx.stderr(format!(
                    "ls: cannot access '{shown}': No such file or directory\n"
                ))
                .await?;
                status = 2;
            }
        }
    }
    Ok(status)
}

async fn cat(shell: &mut Shell, args: &[String], ctx: &mut Ctx<'_>) -> Status {
    let (flags, operands) = split_flags(args);
    if !check_flags("cat", &flags, &[], ctx).await? {
        return Ok(1);
    }
    let operands: Vec<String> = if operands.is_empty() {
        vec!["-".to_string()]
    } else {
        operands.to_vec()
    };
    let mut status = 0;
    for operand in &operands {
        if operand == "-" {
            while let Some(chunk) = ctx.read_stdin().await {
                ctx.stdout(chunk).await?;
            }
            continue;
        }
        let content = shell.resolve(operand).and_then(|path| {
            shell
                .view(|t| t.read(&path).map(|(_, c)| c.to_vec()))
                .and_then(|r| r)
        });
        match content {
            Ok(bytes) => ctx.stdout(bytes).await?,
            Err(e) => {
                ctx.stderr(format!("cat: {operand}: {}\n", e.strerror()))
                    .await?;
                status = 1;
            }
        }
    }
    Ok(status)
}

async fn mkdir(shell: &mut Shell, args: &[String], ctx: &mut Ctx<'_>) -> Status {
    let (flags, operands) = split_flags(args);
    if !check_flags("mkdir", &flags, &["p", "v", "--parents"], ctx).await? {
        return Ok(1);
    }
    let parents = flags.iter().any(|f| f == "p" || f == "--parents");
    if operands.is_empty() {
        ctx.stderr("mkdir: missing operand\n").await?;
        return Ok(1);
    }
    let mut status = 0;
    for operand in operands {
        let done = shell.resolve(operand).and_then(|path| {
            shell.mutate(FsOp::Mkdir {
                path: &path,
                parents,
            })
        });
        if let Err(e) = done {
            ctx.stderr(format!(
                "mkdir: cannot create directory '{operand}': {}\n",
                e.strerror()
            ))
            .await?;
            status = 1;
        }
    }
    Ok(status)
}

async fn rm(shell: &mut Shell, args: &[String], ctx: &mut Ctx<'_>) -> Status {
    let (flags, operands) = split_flags(args);
    let allowed = ["r", "R", "f", "v", "d", "--recursive", "--force"];
    if !check_flags("rm", &flags, &allowed, ctx).await? {
        return Ok(1);
    }
    let recursive = flags
        .iter()
        .any(|f| f == "r" || f == "R" || f == "--recursive");
    let force = flags.iter().any(|f| f == "f" || f == "--force");
    if operands.is_empty() {
        if force {
            return Ok(0);
        }
        ctx.stderr("rm: missing operand\n").await?;
        return Ok(1);
    }
    let mut status = 0;
    for operand in operands {
        let path = match shell.resolve(operand) {
            Ok(path) => path,
            Err(_) if force => continue,
            Err(e) => {
                ctx.stderr(format!("rm: cannot remove '{operand}': {}\n", e.strerror()))
                    .await?;
                status = 1;
                continue;
            }
        };
        if path == "/" && recursive {
            ctx.stderr("rm: it is dangerous to operate recursively on '/'\nrm: use --no-preserve-root to override this failsafe\n")
                .await?;
            status = 1;
            continue;
        }
        match shell.mutate(FsOp::Delete {
            path: &path,
            recursive,
        }) {
            Ok(_) => {}
            Err(FsError::NotFound) if force => {}
            Err(e) => {
                ctx.stderr(format!("rm: cannot remove '{operand}': {}\n", e.strerror()))
                    .await?;
                status = 1;
            }
        }
    }
    Ok(status)
}

async fn touch(shell: &mut Shell, args: &[String], ctx: &mut Ctx<'_>) -> Status {
    let (flags, operands) = split_flags(args);
    if !check_flags("touch", &flags, &["c"], ctx).await? {
        return Ok(1);
    }
    if operands.is_empty() {
        ctx.stderr("touch: missing file operand\n").await?;
        return Ok(1);
    }
    let mut status = 0;
    for operand in operands {
        let done = shell
            .resolve(operand)
            .and_then(|path| shell.mutate(FsOp::Touch { path: &path }));
        if let Err(e) = done {
            ctx.stderr(format!(
                "touch: cannot touch '{operand}': {}\n",
                e.strerror()
            ))
            .await?;
            status = 1;
        }
    }
    Ok(status)
}

/// `1.5`, `2s`, `1m`, `0.5h`, `1d` → seconds.
fn parse_interval(arg: &str) -> Option<f64> {
    let (number, unit) = match arg.char_indices().last() {
        Some((i, c @ ('s' | 'm' | 'h' | 'd'))) => (&arg[..i], c),
        _ => (arg, 's'),
    };
    let value: f64 = number.parse().ok()?;
    if !value.is_finite() || value < 0.0 || number.contains(['e', 'E', 'x', 'X']) {
        return None;
    }
    let factor = match unit {
        'm' => 60.0,
        'h' => 3600.0,
        'd' => 86400.0,
        _ => 1.0,
    };
    Some(value * factor)
}

async fn sleep(args: &[String], ctx: &mut Ctx<'_>) -> Status {
    if args.is_empty() {
        ctx.stderr("sleep: missing operand\n").await?;
        return Ok(1);
    }
    let mut total = 0.0;
    for arg in args {
        match parse_interval(arg) {
            Some(seconds) => total += seconds,
            None => {
                ctx.stderr(format!("sleep: invalid time interval '{arg}'\n"))
                    .await?;
                return Ok(1);
            }
        }
    }
    // Anything over a year is a year: it is killed long before.
    let duration = Duration::try_from_secs_f64(total.min(365.0 * 86400.0))
        .unwrap_or(Duration::from_secs(365 * 86400));
    tokio::time::sleep(duration).await;
    Ok(0)
}

async fn seq(args: &[String], ctx: &mut Ctx<'_>) -> Status {
    let mut numbers = Vec::new();
    for arg in args {
        match arg.parse::<i64>() {
            Ok(n) => numbers.push(n),
            Err(_) => {
                ctx.stderr(format!("seq: invalid floating point argument: '{arg}'\n"))
                    .await?;
                return Ok(1);
            }
        }
    }
    let (first, step, last) = match numbers.as_slice() {
        [last] => (1, 1, *last),
        [first, last] => (*first, 1, *last),
        [first, step, last] => (*first, *step, *last),
        [] => {
            ctx.stderr("seq: missing operand\n").await?;
            return Ok(1);
        }
        _ => {
            ctx.stderr(format!("seq: extra operand '{}'\n", args[3]))
                .await?;
            return Ok(1);
        }
    };
    if step == 0 {
        ctx.stderr("seq: invalid Zero increment value: '0'\n")
            .await?;
        return Ok(1);
    }
    let mut chunk = String::with_capacity(16 * 1024);
    let mut n = first;
    while (step > 0 && n <= last) || (step < 0 && n >= last) {
        chunk.push_str(&n.to_string());
        chunk.push('\n');
        if chunk.len() >= 16 * 1024 - 24 {
            ctx.stdout(std::mem::take(&mut chunk)).await?;
            chunk.reserve(16 * 1024);
            // A long sequence must not hog the runtime even when the channel never fills.
            tokio::task::yield_now().await;
        }
        match n.checked_add(step) {
            Some(next) => n = next,
            None => break,
        }
    }
    ctx.stdout(chunk).await?;
    Ok(0)
}

async fn exit(shell: &mut Shell, args: &[String], ctx: &mut Ctx<'_>) -> Status {
    let code = match args.first() {
        None => shell.last_status,
        Some(arg) => match arg.parse::<i64>() {
            Ok(n) => (n & 0xff) as i32,
            Err(_) => {
                ctx.stderr(format!("sh: exit: Illegal number: {arg}\n"))
                    .await?;
                2
            }
        },
    };
    shell.exited = true;
    Ok(code)
}

async fn uname(args: &[String], ctx: &mut Ctx<'_>) -> Status {
    let (flags, _) = split_flags(args);
    if !check_flags("uname", &flags, &["a", "s", "m", "r", "n"], ctx).await? {
        return Ok(1);
    }
    let out = if flags.iter().any(|f| f == "a") {
        "Linux oblien 6.1.0-oblien #1 SMP x86_64 GNU/Linux"
    } else if flags.iter().any(|f| f == "m") {
        "x86_64"
    } else if flags.iter().any(|f| f == "r") {
        "6.1.0-oblien"
    } else if flags.iter().any(|f| f == "n") {
        "oblien"
    } else {
        "Linux"
    };
    ctx.stdout(format!("{out}\n")).await?;
    Ok(0)
}

/// Reads stdin to its end, at most `limit` bytes.
async fn read_all_stdin(ctx: &mut Ctx<'_>, limit: usize) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = ctx.read_stdin().await {
        all.extend_from_slice(&chunk);
        if all.len() > limit {
            all.truncate(limit);
            break;
        }
    }
    all
}

/// `sh -c LINE`, `sh FILE`, or `sh` reading its script from stdin: runs in a subshell.
async fn sh(shell: &mut Shell, args: &[String], ctx: &mut Ctx<'_>) -> Status {
    if shell.depth >= MAX_DEPTH {
        ctx.stderr("sh: too many nested shells\n").await?;
        return Ok(2);
    }
    let script = match args.first().map(String::as_str) {
        Some("-c") => match args.get(1) {
            Some(line) => line.clone(),
            None => {
                ctx.stderr("sh: -c: option requires an argument\n").await?;
                return Ok(2);
            }
        },
        Some(file) if !file.starts_with('-') => {
            let content = shell.resolve(file).and_then(|path| {
                shell
                    .view(|t| t.read(&path).map(|(_, c)| c.to_vec()))
                    .and_then(|r| r)
            });
            match content {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => {
                    ctx.stderr(format!("sh: cannot open {file}: {}\n", e.strerror()))
                        .await?;
                    return Ok(2);
                }
            }
        }
        Some(flag) if flag != "-s" && flag != "-" => {
            ctx.stderr(format!("sh: {flag}: unsupported option\n"))
                .await?;
            return Ok(2);
        }
        _ => {
            let bytes = read_all_stdin(ctx, 1024 * 1024).await;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    let mut sub = shell.subshell();
    run_nested(&mut sub, script, ctx).await
}

/// Runs `script` in `sub` with the command's own stdout/stderr (which may be redirected).
async fn run_nested(sub: &mut Shell, script: String, ctx: &mut Ctx<'_>) -> Status {
    if ctx.out == super::Dest::Stdout && ctx.err == super::Dest::Stderr {
        let status = boxed_run_line(sub, script, ctx.io).await;
        return if status == super::STATUS_BROKEN_PIPE && ctx.io.out.is_closed() {
            Err(BrokenPipe)
        } else {
            Ok(status)
        };
    }
    // Redirected: the subshell writes into a channel of its own, forwarded through `ctx`.
    let (tx, mut rx) = mpsc::channel::<Output>(16);
    let (_, placeholder) = mpsc::channel(1);
    let stdin = std::mem::replace(&mut ctx.io.stdin, placeholder);
    let mut sub_io = Io::new(tx, stdin);
    let run = async {
        let status = boxed_run_line(sub, script, &mut sub_io).await;
        // Dropping the sender ends `forward`; stdin goes back to the session.
        let Io { out, stdin } = sub_io;
        drop(out);
        (status, stdin)
    };
    let forward = async {
        while let Some(chunk) = rx.recv().await {
            match chunk {
                Output::Stdout(b) => ctx.stdout(b).await?,
                Output::Stderr(b) => ctx.stderr(b).await?,
            }
        }
        Ok::<(), BrokenPipe>(())
    };
    let ((status, stdin), forwarded) = tokio::join!(run, forward);
    ctx.io.stdin = stdin;
    forwarded?;
    Ok(status)
}

fn boxed_run_line<'a>(
    sub: &'a mut Shell,
    script: String,
    io: &'a mut Io,
) -> Pin<Box<dyn Future<Output = i32> + Send + 'a>> {
    Box::pin(async move { sub.run_line(&script, io).await })
}

#[cfg(test)]
mod tests {
    use super::super::tests::run_in;
    use super::*;
    use crate::state::tests::state_with_workspace;

    fn shell() -> Shell {
        let (state, id) = state_with_workspace();
        Shell::new(state, id)
    }

    #[test]
    fn intervals_and_flags() {
        assert_eq!(parse_interval("0.25"), Some(0.25));
        assert_eq!(parse_interval("2m"), Some(120.0));
        assert_eq!(parse_interval("-1"), None);
        assert_eq!(parse_interval("abc"), None);
        assert_eq!(parse_interval("inf"), None);
        assert_eq!(parse_interval("1e3"), None);
        let args: Vec<String> = ["-rf", "--", "-x"].iter().map(|s| s.to_string()).collect();
        let (flags, rest) = split_flags(&args);
        assert_eq!(flags, ["r", "f"]);
        assert_eq!(rest, ["-x"]);
        assert_eq!(command_name("/usr/bin/ls"), "ls");
        assert_eq!(command_name("/opt/ls"), "/opt/ls");
        assert_eq!(unescape(r"a\tb\nc\\"), "a\tb\nc\\");
    }

    #[tokio::test]
    async fn echo_and_seq() {
        let mut sh = shell();
        assert_eq!(run_in(&mut sh, "echo -n a  b").await.1, "a b");
        assert_eq!(run_in(&mut sh, "echo -e 'a\\tb'").await.1, "a\tb\n");
        assert_eq!(run_in(&mut sh, "echo -x").await.1, "-x\n");
        assert_eq!(run_in(&mut sh, "seq 3").await.1, "1\n2\n3\n");
        assert_eq!(run_in(&mut sh, "seq 2 4").await.1, "2\n3\n4\n");
        assert_eq!(run_in(&mut sh, "seq 5 -2 1").await.1, "5\n3\n1\n");
        assert_eq!(run_in(&mut sh, "seq 0").await.1, "");
        assert_eq!(run_in(&mut sh, "seq 1 0 3").await.0, 1);
        assert_eq!(run_in(&mut sh, "seq x").await.0, 1);
        let (_, out, _) = run_in(&mut sh, "seq 10000").await;
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 10000);
        assert!(lines
            .iter()
            .enumerate()
            .all(|(i, l)| *l == (i + 1).to_string()));
    }

    #[tokio::test]
    async fn files_commands() {
        let mut sh = shell();
        assert_eq!(run_in(&mut sh, "ls").await.1, "README.md\n");
        assert_eq!(run_in(&mut sh, "mkdir a/b").await.0, 1);
        assert_eq!(
            run_in(&mut sh, "mkdir -p a/b && touch a/b/f .hidden")
                .await
                .0,
            0
        );
        assert_eq!(run_in(&mut sh, "ls").await.1, "README.md\na\n");
        assert_eq!(
            run_in(&mut sh, "ls -a").await.1,
            ".\n..\n.hidden\nREADME.md\na\n"
        );
        assert_eq!(run_in(&mut sh, "ls a/b/f").await.1, "a/b/f\n");
        let (status, _, err) = run_in(&mut sh, "mkdir a").await;
        assert_eq!(status, 1);
        assert_eq!(err, "mkdir: cannot create directory 'a': File exists\n");
        let (status, _, err) = run_in(&mut sh, "rm a").await;
        assert_eq!(status, 1);
        assert_eq!(err, "rm: cannot remove 'a': Is a directory\n");
        let (status, _, err) = run_in(&mut sh, "rm nope").await;
        assert_eq!(
            (status, err.as_str()),
            (1, "rm: cannot remove 'nope': No such file or directory\n")
        );
        assert_eq!(run_in(&mut sh, "rm -f nope").await.0, 0);
        assert_eq!(run_in(&mut sh, "rm -r a && ls").await.1, "README.md\n");
        let (status, _, err) = run_in(&mut sh, "rm -rf /").await;
        assert_eq!(status, 1);
        assert!(err.contains("dangerous"), "{err}");
        assert_eq!(
            run_in(&mut sh, "cat README.md").await.1.lines().next(),
            Some("# Workspace")
        );
        let (status, out, err) = run_in(&mut sh, "cat /nope/x").await;
        assert_eq!((status, out.as_str()), (1, ""));
        assert_eq!(err, "cat: /nope/x: No such file or directory\n");
        let (status, _, err) = run_in(&mut sh, "cat /app").await;
        assert_eq!((status, err.as_str()), (1, "cat: /app: Is a directory\n"));
        assert_eq!(run_in(&mut sh, "ls -z").await.0, 2);
        let (status, _, err) = run_in(&mut sh, "ls /nope").await;
        assert_eq!(status, 2);
        assert!(err.contains("No such file"), "{err}");
    }

    #[tokio::test]
    async fn cat_reads_stdin_until_eof() {
        let mut sh = shell();
        let (out_tx, mut out_rx) = mpsc::channel(16);
        let (in_tx, in_rx) = mpsc::channel(16);
        let mut io = Io::new(out_tx, in_rx);
        let run = tokio::spawn(async move {
            let first = sh.run_line("cat", &mut io).await;
            // An empty chunk ended the first cat; the second reads again.
            let second = sh.run_line("cat -", &mut io).await;
            (first, second)
        });
        in_tx.send("hello\n".into()).await.unwrap();
        assert_eq!(out_rx.recv().await, Some(Output::Stdout("hello\n".into())));
        in_tx.send(bytes::Bytes::new()).await.unwrap();
        in_tx.send("again".into()).await.unwrap();
        assert_eq!(out_rx.recv().await, Some(Output::Stdout("again".into())));
        drop(in_tx);
        assert_eq!(run.await.unwrap(), (0, 0));
    }

    #[tokio::test]
    async fn sh_variants_and_sleep() {
        let mut sh = shell();
        assert_eq!(run_in(&mut sh, "sh -c 'echo a; echo b' > out").await.0, 0);
        assert_eq!(run_in(&mut sh, "cat out").await.1, "a\nb\n");
        run_in(&mut sh, "echo 'echo from-file' > s.sh").await;
        assert_eq!(run_in(&mut sh, "sh s.sh").await.1, "from-file\n");
        assert_eq!(run_in(&mut sh, "bash -c 'exit 5'").await.0, 5);
        let started = std::time::Instant::now();
        assert_eq!(run_in(&mut sh, "sleep 0.2").await.0, 0);
        assert!(started.elapsed() >= Duration::from_millis(190));
        assert_eq!(run_in(&mut sh, "sleep x").await.0, 1);
        assert_eq!(run_in(&mut sh, "whoami; uname").await.1, "root\nLinux\n");
        // Nesting is bounded: a script that runs itself stops.
        run_in(&mut sh, "echo 'sh r.sh' > r.sh").await;
        let (status, _, err) = run_in(&mut sh, "sh r.sh").await;
        assert_eq!(status, 2);
        assert!(err.contains("too many nested shells"), "{err}");
    }
}
