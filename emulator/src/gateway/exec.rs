//! `POST /exec`, emulated: a handful of commands answered deterministically from the workspace's
//! in-memory files. Nothing is executed on the host.

use super::files::{normalize, FileTree, Node};

/// The directory commands run in.
pub const WORKDIR: &str = "/app";

pub struct ExecOutput {
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn output(exit_code: i32, stdout: String, stderr: String) -> ExecOutput {
    ExecOutput {
        exit_code,
        stdout,
        stderr,
    }
}

fn resolve(arg: &str) -> String {
    if arg.starts_with('/') {
        arg.to_string()
    } else {
        format!("{WORKDIR}/{arg}")
    }
}

/// Runs `cmd` (argv form) against `tree`: `echo`, `pwd`, `ls`, `cat`, `true`, `false`.
pub fn run(tree: &FileTree, cmd: &[String]) -> ExecOutput {
    let Some((program, args)) = cmd.split_first() else {
        return output(127, String::new(), "sh: empty command\n".to_string());
    };
    match program.as_str() {
        "echo" => {
            let (newline, words) = match args.first().map(String::as_str) {
                Some("-n") => (false, &args[1..]),
                _ => (true, args),
            };
            let mut out = words.join(" ");
            if newline {
                out.push('\n');
            }
            output(0, out, String::new())
        }
        "pwd" => output(0, format!("{WORKDIR}\n"), String::new()),
        "true" => output(0, String::new(), String::new()),
        "false" => output(1, String::new(), String::new()),
        "ls" => ls(tree, args),
        "cat" => cat(tree, args),
        other => output(127, String::new(), format!("sh: 1: {other}: not found\n")),
    }
}

fn ls(tree: &FileTree, args: &[String]) -> ExecOutput {
    let targets: Vec<String> = if args.is_empty() {
        vec![WORKDIR.to_string()]
    } else {
        args.iter().map(|a| resolve(a)).collect()
    };
    let (mut stdout, mut stderr, mut code) = (String::new(), String::new(), 0);
    for (i, target) in targets.iter().enumerate() {
        let shown = args.get(i).map(String::as_str).unwrap_or(".");
        match normalize(target)
            .ok()
            .and_then(|p| tree.get(&p).map(|n| (p, n)))
        {
            Some((_, Node::File { .. })) => stdout.push_str(&format!("{shown}\n")),
            Some((path, Node::Dir { .. })) => {
                if targets.len() > 1 {
                    stdout.push_str(&format!("{shown}:\n"));
                }
                if let Ok((_, entries)) = tree.list(&path, false) {
                    for entry in entries {
                        stdout.push_str(entry["name"].as_str().unwrap_or_default());
                        stdout.push('\n');
                    }
                }
            }
            None => {
                stderr.push_str(&format!(
                    "ls: cannot access '{shown}': No such file or directory\n"
                ));
                code = 2;
            }
        }
    }
    output(code, stdout, stderr)
}

fn cat(tree: &FileTree, args: &[String]) -> ExecOutput {
    let (mut stdout, mut stderr, mut code) = (String::new(), String::new(), 0);
    for arg in args {
        match tree.read(&resolve(arg)) {
            Ok((_, content)) => stdout.push_str(&String::from_utf8_lossy(content)),
            Err(super::files::FsError::IsADirectory) => {
                stderr.push_str(&format!("cat: {arg}: Is a directory\n"));
                code = 1;
            }
            Err(_) => {
                stderr.push_str(&format!("cat: {arg}: No such file or directory\n"));
                code = 1;
            }
        }
    }
    output(code, stdout, stderr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn commands() {
        let tree = FileTree::seeded();
        assert_eq!(
            run(&tree, &argv(&["echo", "hello", "world"])).stdout,
            "hello world\n"
        );
        assert_eq!(run(&tree, &argv(&["pwd"])).stdout, "/app\n");
        assert_eq!(run(&tree, &argv(&["ls"])).stdout, "README.md\n");
        assert!(run(&tree, &argv(&["cat", "README.md"]))
            .stdout
            .starts_with("# Workspace"));
        assert_eq!(run(&tree, &argv(&["cat", "nope"])).exit_code, 1);
        assert_eq!(run(&tree, &argv(&["false"])).exit_code, 1);
        assert_eq!(run(&tree, &argv(&["rm", "-rf", "/"])).exit_code, 127);
        assert_eq!(run(&tree, &[]).exit_code, 127);
    }
}
