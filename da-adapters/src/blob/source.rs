//! Where a blob backend reads blobs from.
//!
//! Blobs are not part of the execution chain: an execution node keeps only their versioned
//! hashes. On a real L1 they are served by the consensus layer's beacon API for about 18 days
//! (4096 epochs); anvil keeps them in memory and serves them both over its own JSON-RPC and over
//! the beacon `blobs` endpoint on its RPC port. Every source returns raw blobs; the backend
//! checks each against the transaction's versioned hashes, so no source is trusted.

use crate::{DaError, Result};
use alloy::primitives::{B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use serde::Deserialize;
use std::sync::OnceLock;
use std::time::Duration;
use tracing::debug;

const BACKEND: &str = "ethereum-blob";

/// How a beacon node is asked for the blobs of the block that holds a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeaconBlockId {
    /// The consensus slot, computed from the execution block's timestamp:
    /// `(timestamp - genesis_time) / seconds_per_slot`, with `genesis_time` from
    /// `/eth/v1/beacon/genesis` and, when `seconds_per_slot` is `None`, `SECONDS_PER_SLOT` from
    /// `/eth/v1/config/spec` (as the OP Stack's L1 beacon client does). What real beacon nodes
    /// take.
    Slot {
        /// Slot length; `None` asks the node.
        seconds_per_slot: Option<u64>,
    },
    /// The execution block number, which is what anvil's beacon endpoint takes as `block_id`
    /// (it has no slots).
    ExecutionBlockNumber,
}

/// A beacon API client for `GET /eth/v1/beacon/blobs/{block_id}?versioned_hashes=…`, the blob
/// endpoint of Fusaka-era beacon nodes (the older `blob_sidecars` endpoint is deprecated and
/// anvil answers it with 410 Gone).
#[derive(Debug)]
pub struct BeaconClient {
    url: String,
    block_id: BeaconBlockId,
    http: reqwest::Client,
    /// Genesis time and slot length, fetched once: both are fixed for a chain.
    clock: OnceLock<(u64, u64)>,
}

impl BeaconClient {
    /// A client of the beacon node at `url` (e.g. `http://127.0.0.1:5052`).
    pub fn new(url: &str, block_id: BeaconBlockId) -> Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| chain_err(format!("beacon HTTP client: {e}")))?;
        let url = url.trim_end_matches('/').to_owned();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(chain_err(format!("bad beacon URL {url:?}: want http(s)://host:port")));
        }
        Ok(Self { url, block_id, http, clock: OnceLock::new() })
    }

    /// The blobs of the block numbered `block_number` with timestamp `timestamp` whose versioned
    /// hashes are among `hashes` (the beacon node filters; the caller checks). `None` if the
    /// node does not have the block (unknown, or its blobs are pruned).
    pub async fn blobs(
        &self,
        block_number: u64,
        timestamp: u64,
        hashes: &[B256],
    ) -> Result<Option<Vec<Bytes>>> {
        let block_id = match self.block_id {
            BeaconBlockId::ExecutionBlockNumber => block_number,
            BeaconBlockId::Slot { seconds_per_slot } => {
                let (genesis, slot_len) = self.clock(seconds_per_slot).await?;
                slot_of(timestamp, genesis, slot_len)?
            }
        };
        // The filter is written comma-separated, as anvil and Lighthouse read array query
        // parameters. A node that reads it otherwise (repeated keys) returns fewer blobs than
        // asked for; then the whole block is fetched, and the caller picks ours by hash.
        let filter: Vec<String> = hashes.iter().map(|h| h.to_string()).collect();
        let base = format!("{}/eth/v1/beacon/blobs/{block_id}", self.url);
        let url = format!("{base}?versioned_hashes={}", filter.join(","));
        debug!(target: "da::blob", %url, "beacon blobs request");
        let Some(body) = self.get_json::<BlobsResponse>(&url).await? else { return Ok(None) };
        if body.data.len() >= hashes.len() {
            return Ok(Some(body.data));
        }
        debug!(target: "da::blob", got = body.data.len(), want = hashes.len(), "filtered answer short; fetching the whole block");
        Ok(self.get_json::<BlobsResponse>(&base).await?.map(|b| b.data))
    }

    async fn clock(&self, seconds_per_slot: Option<u64>) -> Result<(u64, u64)> {
        if let Some(clock) = self.clock.get() {
            return Ok(*clock);
        }
        let genesis: GenesisResponse = self
            .get_json(&format!("{}/eth/v1/beacon/genesis", self.url))
            .await?
            .ok_or_else(|| chain_err("beacon node has no genesis".into()))?;
        let genesis = parse_u64("genesis_time", &genesis.data.genesis_time)?;
        let slot_len = match seconds_per_slot {
            Some(s) => s,
            None => {
                let spec: SpecResponse = self
                    .get_json(&format!("{}/eth/v1/config/spec", self.url))
                    .await?
                    .ok_or_else(|| chain_err("beacon node serves no /eth/v1/config/spec".into()))?;
                parse_u64("SECONDS_PER_SLOT", &spec.data.seconds_per_slot)?
            }
        };
        if slot_len == 0 {
            return Err(malformed("SECONDS_PER_SLOT is 0".into()));
        }
        Ok(*self.clock.get_or_init(|| (genesis, slot_len)))
    }

    /// GETs JSON; `None` on 404 (the beacon API's "block not found").
    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<Option<T>> {
        let resp = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| chain_err(format!("GET {url}: {e}")))?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = resp.bytes().await.map_err(|e| chain_err(format!("GET {url}: {e}")))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(512)]).into_owned();
            return Err(chain_err(format!("GET {url}: {status}: {text}")));
        }
        serde_json::from_slice(&body).map(Some).map_err(|e| malformed(format!("GET {url}: bad JSON: {e}")))
    }
}

/// The slot of an execution block with `timestamp`, on a chain that started at `genesis` with
/// slots of `slot_len` seconds. Every post-merge execution block is its slot's payload, so its
/// timestamp is exactly the slot's start.
pub fn slot_of(timestamp: u64, genesis: u64, slot_len: u64) -> Result<u64> {
    let since = timestamp
        .checked_sub(genesis)
        .ok_or_else(|| malformed(format!("block timestamp {timestamp} precedes beacon genesis {genesis}")))?;
    if slot_len == 0 || since % slot_len != 0 {
        return Err(malformed(format!(
            "block timestamp {timestamp} is not a slot start (genesis {genesis}, {slot_len} s slots)"
        )));
    }
    Ok(since / slot_len)
}

/// Where a [`BlobBackend`](super::BlobBackend) fetches blobs from.
#[derive(Debug)]
pub enum BlobSource {
    /// anvil's `anvil_getBlobsByTransactionHash` on the execution RPC the backend talks to.
    /// Development chains only: no production client has this method.
    AnvilRpc,
    /// A beacon node's `blobs` endpoint (a real L1, or anvil's beacon endpoint with
    /// [`BeaconBlockId::ExecutionBlockNumber`]).
    Beacon(BeaconClient),
}

impl BlobSource {
    /// A beacon source at `url` that asks by slot (a real L1 beacon node).
    pub fn beacon(url: &str) -> Result<Self> {
        Ok(Self::Beacon(BeaconClient::new(url, BeaconBlockId::Slot { seconds_per_slot: None })?))
    }

    /// anvil's beacon endpoint, on its RPC URL.
    pub fn anvil_beacon(rpc_url: &str) -> Result<Self> {
        Ok(Self::Beacon(BeaconClient::new(rpc_url, BeaconBlockId::ExecutionBlockNumber)?))
    }

    /// What the source is, for logs.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::AnvilRpc => "anvil-rpc",
            Self::Beacon(_) => "beacon",
        }
    }

    /// Raw blobs for the transaction `tx` in block `block_number` (at `timestamp`) with
    /// versioned hashes `hashes`; `None` when the source does not have them. Blobs come as
    /// heap bytes, not 128 KiB arrays: deserializing those goes through several stack copies,
    /// which overflow a 2 MiB thread stack in debug builds.
    pub(super) async fn fetch(
        &self,
        provider: &DynProvider,
        tx: B256,
        block_number: u64,
        timestamp: u64,
        hashes: &[B256],
    ) -> Result<Option<Vec<Bytes>>> {
        match self {
            Self::AnvilRpc => provider
                .raw_request::<_, Option<Vec<Bytes>>>("anvil_getBlobsByTransactionHash".into(), (tx,))
                .await
                .map_err(|e| chain_err(format!("anvil_getBlobsByTransactionHash: {e}"))),
            Self::Beacon(beacon) => beacon.blobs(block_number, timestamp, hashes).await,
        }
    }
}

#[derive(Deserialize)]
struct BlobsResponse {
    data: Vec<Bytes>,
}

#[derive(Deserialize)]
struct GenesisResponse {
    data: GenesisData,
}

#[derive(Deserialize)]
struct GenesisData {
    genesis_time: String,
}

#[derive(Deserialize)]
struct SpecResponse {
    data: SpecData,
}

#[derive(Deserialize)]
struct SpecData {
    #[serde(rename = "SECONDS_PER_SLOT")]
    seconds_per_slot: String,
}

fn parse_u64(what: &str, s: &str) -> Result<u64> {
    s.parse().map_err(|_| malformed(format!("beacon {what} {s:?} is not a number")))
}

fn chain_err(msg: String) -> DaError {
    DaError::Chain { backend: BACKEND, msg }
}

fn malformed(msg: String) -> DaError {
    DaError::Malformed { backend: BACKEND, msg }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_from_timestamps() {
        // Mainnet: genesis 1606824023, 12 s slots; slot 8626176 started at 1710338135.
        assert_eq!(slot_of(1_710_338_135, 1_606_824_023, 12).unwrap(), 8_626_176);
        assert_eq!(slot_of(100, 100, 12).unwrap(), 0);
        assert!(slot_of(99, 100, 12).is_err());
        assert!(slot_of(105, 100, 12).is_err());
        assert!(slot_of(105, 100, 0).is_err());
    }

    #[test]
    fn bad_beacon_url() {
        assert!(BeaconClient::new("127.0.0.1:5052", BeaconBlockId::ExecutionBlockNumber).is_err());
        assert!(BeaconClient::new("http://127.0.0.1:5052/", BeaconBlockId::ExecutionBlockNumber).is_ok());
    }
}
