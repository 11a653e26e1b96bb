//! The `hookhub` binary itself: configuration errors, the commands for scripted installs, and a
//! graceful stop on SIGTERM.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_hookhub");

pub fn hookhub(dir: &tempfile::TempDir) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir.path())
        .env("HOOKHUB_DATABASE", dir.path().join("hookhub.db"));
    command
}

fn run_with_stdin(mut command: Command, input: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_owned()
}

#[test]
fn invalid_configuration_stops_startup_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = hookhub(&dir)
        .env("HOOKHUB_LISTEN", "nowhere")
        .arg("serve")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("`listen`") && stderr.contains("HOOKHUB_LISTEN"),
        "{stderr}"
    );

    std::fs::write(dir.path().join("hookhub.toml"), "log_format = \"yaml\"\n").unwrap();
    let output = hookhub(&dir).output().unwrap();
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("`log_format`"));
}

#[test]
fn create_user_reads_the_password_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = hookhub(&dir);
    command.args(["create-user", "--username", "ops", "--password-stdin"]);
    let output = run_with_stdin(command, "a long enough password\n");
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "created admin `ops`");

    let mut again = hookhub(&dir);
    again.args(["create-user", "--username", "ops", "--password-stdin"]);
    let output = run_with_stdin(again, "another long password\n");
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("That username is taken."));

    let mut weak = hookhub(&dir);
    weak.args(["create-user", "--username", "dev", "--password-stdin"]);
    let output = run_with_stdin(weak, "short\n");
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("at least 10 characters"));
}

/// Creates an API key with the command for scripted installs; the key it printed.
pub fn create_api_key(dir: &tempfile::TempDir) -> String {
    create_api_key_with(hookhub(dir))
}

/// Runs `create-api-key` as `command` (the binary with its settings) and answers the key.
pub fn create_api_key_with(mut command: Command) -> String {
    let output = command
        .args(["create-api-key", "--name", "deploy"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    text(&output.stdout)
}

#[test]
fn create_api_key_prints_a_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_api_key(&dir);
    assert!(key.starts_with("hh_") && key.len() == 46, "{key}");
}

#[tokio::test]
async fn sigterm_stops_the_server_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tokio::process::Command::from(hookhub(&dir))
        .env("HOOKHUB_LISTEN", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let healthy = crate::helpers::healthy_within(&base, Duration::from_secs(10)).await;
    assert!(healthy, "the server did not start");

    let pid = child.id().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the server did not stop within 10 s")
        .unwrap();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn a_first_user_made_on_the_command_line_closes_the_first_run_setup() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = hookhub(&dir);
    command.args(["create-user", "--username", "ops", "--password-stdin"]);
    let output = run_with_stdin(command, "a long enough password\n");
    assert!(output.status.success(), "{}", text(&output.stderr));

    let database = dir.path().join("hookhub.db");
    let app = crate::helpers::TestApp::spawn_with(|config| config.database = database.into()).await;
    let client = app.client();
    let setup = app
        .call::<app::api::SetUp>(
            &client,
            &[
                ("username", "intruder"),
                ("password", "another long password"),
                ("confirm", "another long password"),
            ],
        )
        .await;
    assert!(!setup.status().is_success(), "{}", setup.status());
    let (_, intruder) = app.log_in("intruder", "another long password").await;
    assert!(matches!(
        crate::helpers::app_error(intruder).await,
        app::error::AppError::Forbidden(_)
    ));
    let (_, ops) = app.log_in("ops", "a long enough password").await;
    assert!(ops.status().is_success() || ops.status().is_redirection());
}
