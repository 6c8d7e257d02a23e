//! The proposer: posts the L2's output roots to the L1 `OutputOracle`.
//!
//! Each [`Proposer::tick`] reads the oracle's `nextBlockNumber()` (the only state: a restarted
//! proposer carries on from the chain, and a proposal it had in flight when it stopped is
//! either mined, so the number moved on, or not, so it is proposed again). It proposes that
//! block when
//! - the L2 block is covered by the safe head (its batch is on L1 with confirmations), so the
//!   output commits to data anyone can derive, and
//! - its L2 timestamp (`computeL2Timestamp`) is before the L1 head's timestamp, as the oracle
//!   requires;
//!
//! then posts `proposeL2Output(root, n, l1Hash, l1Number)` with `msg.value = BOND()` through the
//! [`TxManager`]. `l1Hash`/`l1Number` are the L1 head seen when building the transaction: the
//! oracle checks `blockhash(l1Number)`, so a proposal built on an L1 branch that is later
//! reorganised away reverts instead of landing on a chain the proposer did not see.

use crate::error::{PipelineError, Result, SourceError, contract_err};
use crate::l1::txmgr::{TxCandidate, TxManager};
use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::SolCall;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use temporis_contracts::OutputOracle;
use temporis_protocol::output::OutputRootV0;
use tracing::{debug, info, warn};

/// How often the proposer checks whether the next output is due.
pub const DEFAULT_PROPOSER_INTERVAL: Duration = Duration::from_secs(2);

/// An L2 block's output: its root and the root's version-0 preimage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputAtBlock {
    /// The L2 block number.
    pub block_number: u64,
    /// The L2 block hash.
    pub block_hash: B256,
    /// The root's preimage (state root, message-passer storage root, block hash).
    pub output: OutputRootV0,
    /// `output.root()`.
    pub output_root: B256,
}

impl OutputAtBlock {
    /// The output of block `block_number` with preimage `output`.
    pub fn new(block_number: u64, output: OutputRootV0) -> Self {
        Self { block_number, block_hash: output.latest_block_hash, output, output_root: output.root() }
    }

    /// Checks that the root is its preimage's and names the block.
    pub fn check(&self, n: u64) -> Result<(), String> {
        if self.block_number != n {
            return Err(format!("output of block {} returned for block {n}", self.block_number));
        }
        if self.output.latest_block_hash != self.block_hash {
            return Err(format!("output of block {n}: preimage block hash differs from the block hash"));
        }
        if self.output.root() != self.output_root {
            return Err(format!("output of block {n}: root {} is not its preimage's", self.output_root));
        }
        Ok(())
    }
}

/// The L2 side the proposer reads (the sequencer implements it).
pub trait OutputSource: Send + Sync {
    /// The highest L2 block whose batch is on L1 with confirmations.
    fn safe_head(&self) -> impl Future<Output = Result<u64, SourceError>> + Send;
    /// The output of L2 block `n`, `None` if the node does not have that block.
    fn output_at(&self, n: u64) -> impl Future<Output = Result<Option<OutputAtBlock>, SourceError>> + Send;
}

impl<T: OutputSource + ?Sized> OutputSource for Arc<T> {
    fn safe_head(&self) -> impl Future<Output = Result<u64, SourceError>> + Send {
        (**self).safe_head()
    }
    fn output_at(&self, n: u64) -> impl Future<Output = Result<Option<OutputAtBlock>, SourceError>> + Send {
        (**self).output_at(n)
    }
}

/// Settings of a [`Proposer`].
#[derive(Debug, Clone)]
pub struct ProposerConfig {
    /// The `OutputOracle`.
    pub output_oracle: Address,
    /// Time between ticks of [`Proposer::run`] when nothing was due.
    pub interval: Duration,
    /// Bond to send; `None` reads `BOND()` from the oracle. A configured bond that differs
    /// from the oracle's is refused at start (the oracle would revert every proposal).
    pub bond: Option<U256>,
}

impl ProposerConfig {
    /// Defaults for the oracle at `output_oracle`.
    pub const fn new(output_oracle: Address) -> Self {
        Self { output_oracle, interval: DEFAULT_PROPOSER_INTERVAL, bond: None }
    }
}

/// What one [`Proposer::tick`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposeStep {
    /// Posted the output of `l2_block`.
    Proposed {
        /// The L2 block.
        l2_block: u64,
        /// Its output root.
        output_root: B256,
        /// The L1 transaction.
        tx: B256,
        /// The L1 block the proposal referenced.
        l1_block: u64,
    },
    /// The next block to propose is not safe yet.
    NotSafe {
        /// `nextBlockNumber()`.
        next: u64,
        /// The source's safe head.
        safe_head: u64,
    },
    /// The next block is safe but its L2 time is not yet before the L1 head's.
    TooEarly {
        /// `nextBlockNumber()`.
        next: u64,
        /// Its L2 timestamp.
        l2_timestamp: u64,
        /// The L1 head's timestamp.
        l1_timestamp: u64,
    },
}

/// Posts output roots: see the [module docs](self).
#[derive(Debug)]
pub struct Proposer<S> {
    source: S,
    txmgr: Arc<TxManager>,
    provider: DynProvider,
    config: ProposerConfig,
    bond: U256,
}

impl<S: OutputSource> Proposer<S> {
    /// A proposer reading `source` and sending through `txmgr` (whose key must be the oracle's
    /// proposer). Reads the oracle's bond and checks the key.
    pub async fn new(source: S, txmgr: Arc<TxManager>, config: ProposerConfig) -> Result<Self> {
        let provider = txmgr.provider().clone();
        let oracle = OutputOracle::new(config.output_oracle, &provider);
        let bond = oracle.BOND().call().await.map_err(contract_err("OutputOracle.BOND"))?;
        if let Some(configured) = config.bond
            && configured != bond
        {
            return Err(PipelineError::Config(format!(
                "configured bond {configured} wei differs from the oracle's BOND() {bond} wei"
            )));
        }
        let proposer = oracle.proposer().call().await.map_err(contract_err("OutputOracle.proposer"))?;
        if proposer != txmgr.address() {
            return Err(PipelineError::Config(format!(
                "key {} is not the oracle's proposer {proposer}",
                txmgr.address()
            )));
        }
        Ok(Self { source, txmgr, provider, config, bond })
    }

    /// The bond each proposal carries.
    pub const fn bond(&self) -> U256 {
        self.bond
    }

    /// The source.
    pub const fn source(&self) -> &S {
        &self.source
    }

    /// Proposes the next output if it is due (see the [module docs](self)).
    pub async fn tick(&self) -> Result<ProposeStep> {
        let oracle = OutputOracle::new(self.config.output_oracle, &self.provider);
        let next: u64 = oracle
            .nextBlockNumber()
            .call()
            .await
            .map_err(contract_err("OutputOracle.nextBlockNumber"))?
            .saturating_to();
        let safe_head = self.source.safe_head().await.map_err(PipelineError::Source)?;
        if next > safe_head {
            return Ok(ProposeStep::NotSafe { next, safe_head });
        }
        let l2_timestamp: u64 = oracle
            .computeL2Timestamp(U256::from(next))
            .call()
            .await
            .map_err(contract_err("OutputOracle.computeL2Timestamp"))?
            .saturating_to();
        let head = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await?
            .ok_or(PipelineError::MissingBlock(u64::MAX))?;
        if l2_timestamp >= head.header.timestamp {
            return Ok(ProposeStep::TooEarly { next, l2_timestamp, l1_timestamp: head.header.timestamp });
        }
        let output = self
            .source
            .output_at(next)
            .await
            .map_err(PipelineError::Source)?
            .ok_or_else(|| PipelineError::Source(format!("no output for safe L2 block {next}").into()))?;
        output.check(next).map_err(|e| PipelineError::Source(e.into()))?;

        let call = OutputOracle::proposeL2OutputCall {
            outputRoot: output.output_root,
            l2BlockNumber: U256::from(next),
            l1BlockHash: head.header.hash,
            l1BlockNumber: U256::from(head.header.number),
        };
        let candidate = TxCandidate {
            to: self.config.output_oracle,
            data: Bytes::from(call.abi_encode()),
            value: self.bond,
            ..TxCandidate::default()
        };
        info!(
            target: "pipeline::proposer",
            l2_block = next,
            root = %output.output_root,
            l1_block = head.header.number,
            "proposing output"
        );
        let sent = self.txmgr.send(candidate).await?;
        Ok(ProposeStep::Proposed {
            l2_block: next,
            output_root: output.output_root,
            tx: sent.receipt.transaction_hash,
            l1_block: head.header.number,
        })
    }

    /// Ticks until `shutdown` resolves: right away again after a proposal (to catch up), after
    /// [`ProposerConfig::interval`] otherwise. Errors are logged and retried (the state is on
    /// L1, so a retry is always safe).
    pub async fn run(&self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            let wait = match self.tick().await {
                Ok(ProposeStep::Proposed { .. }) => Duration::ZERO,
                Ok(step) => {
                    debug!(target: "pipeline::proposer", ?step, "nothing to propose");
                    self.config.interval
                }
                Err(err) => {
                    warn!(target: "pipeline::proposer", %err, "proposal failed; retrying");
                    self.config.interval
                }
            };
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(wait) => {}
            }
        }
    }
}
