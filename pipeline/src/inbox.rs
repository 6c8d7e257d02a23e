//! Reading the `BatchInbox`: `BatchPosted(uint256 indexed batchIndex, bytes payload)` events in
//! L1 order, and the `0x01 ‖ commitment` payload they carry.

use crate::error::{PipelineError, Result};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use temporis_contracts::BatchInbox::BatchPosted;

/// Most L1 blocks asked for in one `eth_getLogs` (public nodes refuse wide ranges).
pub const MAX_LOG_RANGE: u64 = 2_000;

/// One `BatchPosted` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxPost {
    /// L1 block that holds it.
    pub l1_block: u64,
    /// That block's hash.
    pub l1_hash: B256,
    /// Index of the log in the block.
    pub log_index: u64,
    /// The inbox's running batch index.
    pub batch_index: u64,
    /// The posted payload, `0x01 ‖ commitment`.
    pub payload: Bytes,
}

/// Reads the `BatchPosted` events of `inbox` in blocks `from..=to`, in L1 order (block, then
/// log index).
pub async fn read_posts(
    provider: &DynProvider,
    inbox: Address,
    from: u64,
    to: u64,
) -> Result<Vec<InboxPost>> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start.saturating_add(MAX_LOG_RANGE - 1));
        let filter = Filter::new()
            .address(inbox)
            .event_signature(BatchPosted::SIGNATURE_HASH)
            .from_block(start)
            .to_block(end);
        for log in provider.get_logs(&filter).await? {
            let block = log.block_number.unwrap_or(start);
            let bad = |reason: String| PipelineError::BadLog { block, reason };
            let (Some(l1_hash), Some(log_index)) = (log.block_hash, log.log_index) else {
                return Err(bad("BatchPosted log without block hash or index (pending?)".into()));
            };
            let event = BatchPosted::decode_log(&log.inner)
                .map_err(|e| bad(format!("undecodable BatchPosted: {e}")))?;
            let batch_index =
                u64::try_from(event.batchIndex).map_err(|_| bad("batch index over 2^64".into()))?;
            out.push(InboxPost {
                l1_block: block,
                l1_hash,
                log_index,
                batch_index,
                payload: event.data.payload.clone(),
            });
        }
        start = end + 1;
    }
    out.sort_by_key(|p| (p.l1_block, p.log_index));
    Ok(out)
}
