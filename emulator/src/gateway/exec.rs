//! Starting exec tasks (`/exec…`) in the emulated shell ([`crate::shell`]): the task model and
//! its bounds are in [`super::tasks`].

pub use super::tasks::*;
use crate::shell::{Io, Output, Shell};
use crate::state::AppState;
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Creates a task in the workspace and starts it in the shell (cwd `/app`).
pub fn start(
    state: &AppState,
    workspace_id: &str,
    command: Vec<String>,
    program: Program,
    timeout: Option<Duration>,
    ttl_seconds: Option<u64>,
) -> Result<Arc<Task>, StartError> {
    let (task, stdin_rx) = {
        let mut store = state.store();
        let workspace = store
            .workspace_mut(workspace_id)
            .ok_or(StartError::WorkspaceGone)?;
        workspace
            .exec
            .create(command, ttl_seconds)
            .map_err(|TooManyRunning| StartError::TooManyRunning)?
    };
    let shell = Shell::new(state.clone(), workspace_id);
    tokio::spawn(run(task.clone(), shell, program, stdin_rx, timeout));
    Ok(task)
}

async fn run(
    task: Arc<Task>,
    mut shell: Shell,
    program: Program,
    stdin: mpsc::Receiver<Bytes>,
    timeout: Option<Duration>,
) {
    let (out_tx, mut out_rx) = mpsc::channel::<Output>(64);
    let runner = async {
        let mut io = Io::new(out_tx, stdin);
        let program_done = async {
            match &program {
                Program::Line(line) => shell.run_line(line, &mut io).await,
                Program::Argv(argv) => shell.run_argv(argv, &mut io).await,
            }
        };
        let deadline = async {
            match timeout {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            code = program_done => code,
            _ = task.kill.notified() => STATUS_KILLED,
            _ = deadline => {
                task.log().timed_out = true;
                STATUS_TIMED_OUT
            }
        }
        // `io` (the output sender) is dropped here: the collector below ends.
    };
    let collect = async {
        while let Some(output) = out_rx.recv().await {
            task.push(output);
        }
    };
    let (code, ()) = tokio::join!(runner, collect);
    task.finish(code);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::tests::state_with_workspace;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    async fn sse_text(task: Arc<Task>) -> String {
        let (tx, mut rx) = mpsc::channel(8);
        tokio::spawn(task.stream_sse(tx));
        let mut all = Vec::new();
        while let Some(chunk) = rx.recv().await {
            all.extend_from_slice(&chunk);
        }
        String::from_utf8_lossy(&all).into_owned()
    }

    #[tokio::test]
    async fn run_wait_and_replay() {
        let (state, id) = state_with_workspace();
        let task = start(
            &state,
            &id,
            vec!["echo hi; echo err >&2".into()],
            Program::Line("echo hi; echo err >&2".into()),
            None,
            None,
        )
        .unwrap();
        assert_eq!(task.id, "1");
        assert_eq!(task.wait().await, 0);
        let json = task.to_json(true);
        assert_eq!(json["status"], "exited");
        assert_eq!(json["stdout"], "hi\n");
        assert_eq!(json["stderr"], "err\n");
        let text = sse_text(task).await;
        assert_eq!(
            text,
            format!(
                "event: task_id\ndata: {{\"task_id\":\"1\"}}\n\nevent: stdout\ndata: {{\"data\":\"{}\"}}\n\nevent: stderr\ndata: {{\"data\":\"{}\"}}\n\nevent: exit\ndata: {{\"exit_code\":0,\"status\":\"exited\"}}\n\n",
                STANDARD.encode("hi\n"),
                STANDARD.encode("err\n")
            )
        );
    }

    #[tokio::test]
    async fn kill_timeout_and_bounds() {
        let (state, id) = state_with_workspace();
        let sleeper = start(
            &state,
            &id,
            vec![],
            Program::Line("sleep 30".into()),
            None,
            None,
        )
        .unwrap();
        sleeper.kill();
        let code = tokio::time::timeout(Duration::from_secs(2), sleeper.wait()).await;
        assert_eq!(code, Ok(STATUS_KILLED));
        let slow = start(
            &state,
            &id,
            vec![],
            Program::Line("sleep 30".into()),
            Some(Duration::from_millis(50)),
            None,
        )
        .unwrap();
        assert_eq!(slow.wait().await, STATUS_TIMED_OUT);
        assert_eq!(slow.to_json(false)["error"], "timeout");
        assert_eq!(slow.input(Bytes::from("x")), Err(InputError::NotRunning));
        // Output beyond the bound: the tail is kept.
        let big = start(
            &state,
            &id,
            vec![],
            Program::Line("seq 300000".into()),
            None,
            None,
        )
        .unwrap();
        big.wait().await;
        let json = big.to_json(true);
        assert_eq!(json["output_truncated"], true);
        let stdout = json["stdout"].as_str().unwrap_or_default();
        assert!(stdout.len() <= MAX_OUTPUT_BYTES);
        assert!(stdout.ends_with("299999\n300000\n"));
        // Running tasks are bounded.
        let mut running = Vec::new();
        for _ in 0..MAX_RUNNING {
            running.push(
                start(
                    &state,
                    &id,
                    vec![],
                    Program::Line("sleep 30".into()),
                    None,
                    None,
                )
                .unwrap(),
            );
        }
        assert_eq!(
            start(
                &state,
                &id,
                vec![],
                Program::Line("true".into()),
                None,
                None
            )
            .unwrap_err(),
            StartError::TooManyRunning
        );
        // Deleting the workspace kills its tasks.
        state.store().workspaces.clear();
        for task in running {
            assert_eq!(
                tokio::time::timeout(Duration::from_secs(2), task.wait()).await,
                Ok(STATUS_KILLED)
            );
        }
    }
}
