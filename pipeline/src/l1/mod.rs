//! L1 access: the [`watcher`] (confirmed blocks, deposits, reorgs) and the
//! [transaction manager](txmgr) (nonce, fees, resubmission).

pub mod txmgr;
pub mod watcher;

use crate::error::{PipelineError, Result};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};

/// A read-only provider over HTTP at `rpc_url` (no fillers: the pipeline sets every field of
/// what it sends itself).
pub fn http_provider(rpc_url: &str) -> Result<DynProvider> {
    let url = rpc_url.parse().map_err(|e| PipelineError::Config(format!("bad L1 RPC URL {rpc_url}: {e}")))?;
    Ok(ProviderBuilder::default().connect_http(url).erased())
}
