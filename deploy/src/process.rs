//! The devnet's child processes (sequencer, follower): started with their output in a log file,
//! watched, and stopped with SIGTERM (their graceful shutdown) before a SIGKILL.

use crate::{DeployError, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a service gets between SIGTERM and SIGKILL.
pub const STOP_GRACE: Duration = Duration::from_secs(10);

/// A running child process of the devnet.
#[derive(Debug)]
pub struct Service {
    name: &'static str,
    child: Child,
    log: PathBuf,
    /// Whether its end was logged (it is stopped explicitly and again on drop).
    reported: bool,
}

impl Service {
    /// Starts `bin args…` with stdout and stderr appended to `log`.
    pub fn spawn(name: &'static str, bin: &Path, args: &[String], log: &Path) -> Result<Self> {
        let io = |source| DeployError::Datadir { path: log.to_path_buf(), source };
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log).map_err(io)?;
        let err = out.try_clone().map_err(io)?;
        let child = Command::new(bin)
            .args(args)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|source| DeployError::Spawn { name, path: bin.display().to_string(), source })?;
        tracing::info!(target: "devnet", name, pid = child.id(), log = %log.display(), "started");
        Ok(Self { name, child, log: log.to_path_buf(), reported: false })
    }

    /// The service's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its log file.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once it has exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits until `url` answers `eth_chainId`, failing early if the process exits.
    pub fn wait_rpc(&mut self, url: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exited() {
                return Err(DeployError::Check(format!(
                    "{} exited with {status} before serving {url}; see {}",
                    self.name,
                    self.log.display()
                )));
            }
            if rpc_up(url) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(DeployError::Check(format!(
                    "{} did not serve {url} within {timeout:?}; see {}",
                    self.name,
                    self.log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// SIGTERM, then SIGKILL after [`STOP_GRACE`]; returns how it ended.
    pub fn stop(&mut self) -> Option<std::process::ExitStatus> {
        if let Some(status) = self.exited() {
            // Ended by itself, or by the same Ctrl-C (a terminal signals the whole group).
            if !self.reported {
                self.reported = true;
                tracing::info!(target: "devnet", name = self.name, %status, "stopped");
            }
            return Some(status);
        }
        // std has no SIGTERM; the `kill` utility is on every unix.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if let Some(status) = self.exited() {
                self.reported = true;
                tracing::info!(target: "devnet", name = self.name, %status, "stopped");
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        tracing::warn!(target: "devnet", name = self.name, "did not stop on SIGTERM; killing");
        let _ = self.child.kill();
        self.child.wait().ok()
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a JSON-RPC server answers `eth_chainId` at `url` (plain HTTP/1.1 on loopback).
pub fn rpc_up(url: &str) -> bool {
    use std::io::{Read, Write};
    let Some(hostport) = url.strip_prefix("http://") else { return false };
    let hostport = hostport.trim_end_matches('/');
    let Ok(mut s) = std::net::TcpStream::connect(hostport) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}"#;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {hostport}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut resp = String::new();
    let _ = s.read_to_string(&mut resp);
    resp.starts_with("HTTP/1.1 200") && resp.contains("\"result\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_is_stopped_with_sigterm_and_its_output_logged() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("logs/sleeper.log");
        // A shell that reports the TERM it gets, so the test sees SIGTERM (not SIGKILL) arrive.
        let args = vec![
            "-c".to_owned(),
            "trap 'echo got-term; exit 0' TERM; echo up; while :; do sleep 0.05; done".to_owned(),
        ];
        let mut s = Service::spawn("sleeper", Path::new("/bin/sh"), &args, &log).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        assert!(s.exited().is_none());
        let status = s.stop().unwrap();
        assert!(status.success(), "{status}");
        let text = std::fs::read_to_string(&log).unwrap();
        assert!(text.contains("up") && text.contains("got-term"), "{text}");
    }

    #[test]
    fn waiting_for_a_dead_service_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("x.log");
        let mut s =
            Service::spawn("false", Path::new("/bin/sh"), &["-c".into(), "exit 3".into()], &log).unwrap();
        let err = s.wait_rpc("http://127.0.0.1:1", Duration::from_secs(5)).unwrap_err();
        assert!(err.to_string().contains("exited"), "{err}");
        assert!(!rpc_up("http://127.0.0.1:1"));
    }
}
