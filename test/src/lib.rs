#![doc = include_str!("../README.md")]

use alloy_primitives::{Address, U256};
use eyre::{Context, ContextCompat, Result, bail, ensure};
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Root of the repository (the workspace root).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("test/ has a parent").to_path_buf()
}

/// A pinned toolchain binary from `.tools/bin` (installed by `make bootstrap`).
pub fn tool(name: &str) -> Result<PathBuf> {
    let path = repo_root().join(".tools/bin").join(name);
    ensure!(path.exists(), "{} missing: run `make bootstrap` first", path.display());
    Ok(path)
}

/// A free TCP port on loopback (released before returning; good enough for tests).
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn devnet_bin() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("TEMPORIS_DEVNET_BIN") {
        return Ok(PathBuf::from(p));
    }
    // target/<profile>/deps/it-<hash> → target/<profile>/temporis-devnet
    let exe = std::env::current_exe()?;
    let profile_dir = exe.parent().and_then(Path::parent).context("test executable has no target dir")?;
    let bin = profile_dir.join("temporis-devnet");
    ensure!(
        bin.exists(),
        "{} missing: build it with `cargo build -p temporis-deploy` (make test does)",
        bin.display()
    );
    Ok(bin)
}

/// What a test's devnet runs.
#[derive(Debug, Clone, Default)]
pub struct DevnetOptions {
    /// Only anvil, the contracts and the DA server (`--l1-only`).
    pub l1_only: bool,
    /// Seconds between L1 blocks (0: automine).
    pub l1_block_time: u64,
    /// No follower.
    pub no_follower: bool,
}

impl DevnetOptions {
    /// The L1 alone, mining a block per transaction (the L1 dapp flows).
    pub fn l1_only() -> Self {
        Self { l1_only: true, l1_block_time: 0, no_follower: true }
    }

    /// The whole stack: L1 with 1 s blocks, sequencer with batcher and proposer, follower.
    pub fn full() -> Self {
        Self { l1_only: false, l1_block_time: 1, no_follower: false }
    }
}

/// A running `temporis-devnet`, killed on drop.
#[derive(Debug)]
pub struct Devnet {
    child: Child,
    /// The L1 JSON-RPC URL.
    pub rpc_url: String,
    /// The sequencer's JSON-RPC URL (none with `l1_only`).
    pub l2_url: Option<String>,
    /// The follower's JSON-RPC URL.
    pub follower_url: Option<String>,
    /// Parsed `addresses.json` the devnet wrote.
    pub manifest: serde_json::Value,
    /// The devnet's data directory (removed on drop).
    pub datadir: PathBuf,
    /// Its command line (for a restart).
    args: Vec<String>,
}

impl Devnet {
    /// Starts an L1-only devnet on a free port and waits until its contracts are deployed.
    pub fn start() -> Result<Self> {
        Self::start_with(&DevnetOptions::l1_only())
    }

    /// Starts a devnet on free ports and waits until it prints `ready`.
    pub fn start_with(opts: &DevnetOptions) -> Result<Self> {
        let port = free_port()?;
        let da_port = free_port()?;
        let datadir = std::env::temp_dir().join(format!("temporis-e2e-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&datadir);
        let mut args: Vec<String> = vec![
            "--l1.port".into(),
            port.to_string(),
            "--da.port".into(),
            da_port.to_string(),
            "--l1.block-time".into(),
            opts.l1_block_time.to_string(),
            "--l2.port".into(),
            free_port()?.to_string(),
            "--follower.port".into(),
            free_port()?.to_string(),
        ];
        if opts.l1_only {
            args.push("--l1-only".into());
        }
        if opts.no_follower {
            args.push("--no-follower".into());
        }
        args.extend(["--anvil.path".into(), tool("anvil")?.display().to_string()]);
        args.extend(["--datadir".into(), datadir.display().to_string()]);
        let (child, manifest) = spawn_ready(&args, &datadir)?;
        let url = |key: &str| manifest["l2"][key].as_str().map(str::to_owned);
        Ok(Self {
            child,
            rpc_url: format!("http://127.0.0.1:{port}"),
            l2_url: url("rpcUrl"),
            follower_url: url("followerUrl"),
            manifest,
            datadir,
            args,
        })
    }

    /// Stops the devnet (Ctrl-C's path) and starts it again on the same data directory and
    /// ports: it must resume, not redeploy.
    pub fn restart(&mut self) -> Result<()> {
        stop(&mut self.child);
        let (child, manifest) = spawn_ready(&self.args, &self.datadir)?;
        self.child = child;
        self.manifest = manifest;
        Ok(())
    }

    /// Address of a contract deployed on the L2 (`l2.contracts.<key>`).
    pub fn l2_contract(&self, key: &str) -> Result<Address> {
        let s = self.manifest["l2"]["contracts"][key]
            .as_str()
            .with_context(|| format!("no L2 contract {key}"))?;
        Ok(Address::from_str(s)?)
    }

    /// A `cast` bound to the sequencer.
    pub fn l2_cast(&self) -> Result<Cast> {
        Ok(Cast { bin: tool("cast")?, rpc_url: self.l2_url.clone().context("the devnet runs no L2")? })
    }

    /// A `cast` bound to the follower.
    pub fn follower_cast(&self) -> Result<Cast> {
        Ok(Cast {
            bin: tool("cast")?,
            rpc_url: self.follower_url.clone().context("the devnet runs no follower")?,
        })
    }

    /// The log file of a devnet service (`sequencer`, `follower`).
    pub fn log(&self, service: &str) -> PathBuf {
        self.datadir.join("logs").join(format!("{service}.log"))
    }

    /// Address of a deployed contract by its key in `addresses.json` (`contracts.<key>`).
    pub fn contract(&self, key: &str) -> Result<Address> {
        let s = self.manifest["contracts"][key].as_str().with_context(|| format!("no contract {key}"))?;
        Ok(Address::from_str(s)?)
    }

    /// Private key (hex) and address of a dev account by role name.
    pub fn account(&self, role: &str) -> Result<(String, Address)> {
        let accounts = self.manifest["accounts"].as_array().context("no accounts")?;
        let a = accounts.iter().find(|a| a["role"] == role).with_context(|| format!("no account {role}"))?;
        Ok((
            a["privateKey"].as_str().context("privateKey")?.to_string(),
            Address::from_str(a["address"].as_str().context("address")?)?,
        ))
    }

    /// Base URL of the devnet's DA server.
    pub fn da_url(&self) -> Result<String> {
        Ok(self.manifest["da"]["url"].as_str().context("no da.url in the manifest")?.to_string())
    }

    /// A `cast` bound to this devnet.
    pub fn cast(&self) -> Result<Cast> {
        Ok(Cast { bin: tool("cast")?, rpc_url: self.rpc_url.clone() })
    }
}

/// A workspace binary next to the test executable (`make test` builds them all).
pub fn workspace_bin(name: &str) -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().and_then(Path::parent).context("test executable has no target dir")?;
    let bin = dir.join(name);
    ensure!(bin.exists(), "{} missing: build the workspace first (`cargo build --workspace`)", bin.display());
    Ok(bin)
}

/// A `temporis-sequencer` process the test starts itself (to kill it with SIGKILL, or to point
/// it at a DA server of the test's own).
#[derive(Debug)]
pub struct NodeProcess {
    child: Child,
    /// Its JSON-RPC URL.
    pub url: String,
    /// Its log (stdout and stderr).
    pub log: PathBuf,
}

impl NodeProcess {
    /// Starts `temporis-sequencer args… --http.port <free>` and waits for its JSON-RPC.
    ///
    /// `TEMPORIS_SEQUENCER_BIN` runs another build of the node than the one next to the test
    /// executable (the benchmarks use a release build: `cargo build --release -p
    /// temporis-sequencer`); a relative path is taken from the repository root.
    pub fn start(args: &[String], log: &Path) -> Result<Self> {
        let port = free_port()?;
        let out = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        // A relative path is from the repository root (tests run in their package's directory).
        let bin = match std::env::var_os("TEMPORIS_SEQUENCER_BIN") {
            Some(p) => repo_root().join(p),
            None => workspace_bin("temporis-sequencer")?,
        };
        let child = Command::new(bin)
            .args(args)
            .args(["--http.port", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("spawning temporis-sequencer")?;
        let mut node = Self { child, url: format!("http://127.0.0.1:{port}"), log: log.to_path_buf() };
        let url = node.url.clone();
        wait_for(&format!("temporis-sequencer on {url}"), Duration::from_secs(60), || {
            if let Some(status) = node.child.try_wait()? {
                bail!("temporis-sequencer exited with {status}: {}", node.log_tail(30));
            }
            Ok(http_rpc(&url, "eth_chainId", "[]").ok().map(|_| ()))
        })?;
        Ok(node)
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The last `n` lines of its log.
    pub fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// One JSON-RPC call over plain HTTP; the `result`, or an error with the node's message.
pub fn http_rpc(url: &str, method: &str, params: &str) -> Result<serde_json::Value> {
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"{method}","params":{params}}}"#);
    let (status, resp) = http_with("POST", url, Some("application/json"), body.as_bytes())?;
    ensure!(status == 200, "{method}: HTTP {status}");
    let v: serde_json::Value = serde_json::from_slice(&resp)?;
    if let Some(e) = v.get("error") {
        bail!("{method}: {e}");
    }
    Ok(v["result"].clone())
}

/// Starts `temporis-devnet args…` and waits for its `ready` line; returns it and its manifest.
fn spawn_ready(args: &[String], datadir: &Path) -> Result<(Child, serde_json::Value)> {
    let mut child = Command::new(devnet_bin()?)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("spawning temporis-devnet")?;
    // The devnet prints a line "ready" on stdout once everything is up.
    let stdout = child.stdout.take().context("devnet stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.trim() == "ready" {
                let _ = tx.send(());
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if rx.recv_timeout(Duration::from_millis(200)).is_ok() {
            break;
        }
        if let Some(status) = child.try_wait()? {
            dump_logs(datadir);
            bail!("temporis-devnet exited early with {status}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            dump_logs(datadir);
            bail!("temporis-devnet did not become ready within 180 s");
        }
    }
    let manifest_path = datadir.join("addresses.json");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("reading {}", manifest_path.display()))?,
    )?;
    Ok((child, manifest))
}

/// SIGTERM (the devnet stops its services and anvil on it), SIGKILL only if it does not exit.
fn stop(child: &mut Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Prints the tail of every service log of a devnet data directory (on a failed start).
pub fn dump_logs(datadir: &Path) {
    let Ok(dir) = std::fs::read_dir(datadir.join("logs")) else { return };
    for entry in dir.flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        eprintln!("---- {} (last {} lines)", entry.path().display(), tail.len());
        for line in tail.into_iter().rev() {
            eprintln!("{line}");
        }
    }
}

/// Polls `f` every 250 ms until it returns `Some`, or fails after `timeout` naming `what`.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Result<Option<T>>) -> Result<T> {
    let deadline = Instant::now() + timeout;
    let mut last_err = None;
    loop {
        match f() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if Instant::now() > deadline {
            match last_err {
                Some(e) => bail!("timed out after {timeout:?} waiting for {what} (last error: {e:#})"),
                None => bail!("timed out after {timeout:?} waiting for {what}"),
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

impl Drop for Devnet {
    fn drop(&mut self) {
        stop(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.datadir);
    }
}

/// The real `cast`, pointed at one RPC endpoint.
#[derive(Debug, Clone)]
pub struct Cast {
    bin: PathBuf,
    rpc_url: String,
}

impl Cast {
    /// The pinned `cast` pointed at `rpc_url`.
    pub fn new(rpc_url: &str) -> Result<Self> {
        Ok(Self { bin: tool("cast")?, rpc_url: rpc_url.to_owned() })
    }

    fn run(&self, args: &[&str]) -> Result<String> {
        let out = Command::new(&self.bin).args(args).args(["--rpc-url", &self.rpc_url]).output()?;
        if !out.status.success() {
            bail!("cast {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
        }
        Ok(String::from_utf8(out.stdout)?.trim().to_string())
    }

    /// `cast send` from `key`; returns the receipt as JSON. Fails if the transaction reverted.
    pub fn send(
        &self,
        key: &str,
        to: Address,
        sig: &str,
        args: &[&str],
        value: Option<U256>,
    ) -> Result<serde_json::Value> {
        let to = to.to_string();
        let mut argv = vec!["send", "--json", "--private-key", key, to.as_str(), sig];
        argv.extend_from_slice(args);
        let value_s;
        if let Some(v) = value {
            value_s = v.to_string();
            argv.extend_from_slice(&["--value", value_s.as_str()]);
        }
        let receipt: serde_json::Value = serde_json::from_str(&self.run(&argv)?)?;
        ensure!(receipt["status"] == "0x1", "transaction {sig} reverted: {receipt}");
        Ok(receipt)
    }

    /// `cast send` that is expected to revert; returns cast's error text.
    pub fn send_reverting(&self, key: &str, to: Address, sig: &str, args: &[&str]) -> Result<String> {
        let to = to.to_string();
        let mut argv = vec!["send", "--json", "--private-key", key, to.as_str(), sig];
        argv.extend_from_slice(args);
        match self.run(&argv) {
            Ok(out) => bail!("expected {sig} to revert, got {out}"),
            Err(e) => Ok(e.to_string()),
        }
    }

    /// `cast call`, returning the decoded output (one value per line).
    pub fn call(&self, to: Address, sig: &str, args: &[&str]) -> Result<String> {
        let to = to.to_string();
        let mut argv = vec!["call", to.as_str(), sig];
        argv.extend_from_slice(args);
        self.run(&argv)
    }

    /// `cast call` of a function returning one address.
    pub fn call_address(&self, to: Address, sig: &str, args: &[&str]) -> Result<Address> {
        Ok(Address::from_str(&self.call(to, sig, args)?)?)
    }

    /// `cast call` of a function returning one uint (cast prints `123 [1.23e2]` for large ones).
    pub fn call_uint(&self, to: Address, sig: &str, args: &[&str]) -> Result<U256> {
        let out = self.call(to, sig, args)?;
        let first = out.split_whitespace().next().context("empty call output")?;
        Ok(U256::from_str(first)?)
    }

    /// `cast balance` in wei.
    pub fn balance(&self, who: Address) -> Result<U256> {
        Ok(U256::from_str(&self.run(&["balance", &who.to_string()])?)?)
    }

    /// The RPC URL this cast talks to.
    pub fn rpc_url(&self) -> &str {
        &self.rpc_url
    }

    /// `cast` with any arguments (`--rpc-url` appended), stdout trimmed.
    pub fn raw(&self, args: &[&str]) -> Result<String> {
        self.run(args)
    }

    /// A JSON-RPC call whose result is parsed as JSON.
    pub fn rpc_json(&self, method: &str, params: &[&str]) -> Result<serde_json::Value> {
        Ok(serde_json::from_str(&self.rpc(method, params)?)?)
    }

    /// `cast rpc` with raw params (e.g. `evm_increaseTime`).
    pub fn rpc(&self, method: &str, params: &[&str]) -> Result<String> {
        let mut argv = vec!["rpc", method];
        argv.extend_from_slice(params);
        self.run(&argv)
    }
}

/// One plain HTTP/1.1 request (`Connection: close`) to a loopback server; returns the status code
/// and the body. Enough for the DA API in tests without an HTTP client dependency.
pub fn http(method: &str, url: &str, body: &[u8]) -> Result<(u16, Vec<u8>)> {
    http_with(method, url, None, body)
}

/// [`http`] with an optional `Content-Type` header.
fn http_with(method: &str, url: &str, content_type: Option<&str>, body: &[u8]) -> Result<(u16, Vec<u8>)> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").context("http:// URL expected")?;
    let (host, path) = rest.split_once('/').map(|(h, p)| (h, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let content_type = content_type.map(|t| format!("Content-Type: {t}\r\n")).unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").context("no end of headers")?;
    let head = String::from_utf8_lossy(&response[..split]);
    let status: u16 = head.split_whitespace().nth(1).context("no status")?.parse()?;
    ensure!(
        !head.to_ascii_lowercase().contains("transfer-encoding: chunked"),
        "chunked responses not handled"
    );
    Ok((status, response[split + 4..].to_vec()))
}
