//! The proposer against anvil with an in-memory output source.

use crate::L1;
use alloy::primitives::{B256, U256, keccak256};
use alloy::providers::Provider;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use temporis_contracts::OutputOracle;
use temporis_deploy::accounts::Role;
use temporis_pipeline::l1::txmgr::{TxManager, TxManagerConfig};
use temporis_pipeline::proposer::{OutputAtBlock, OutputSource, ProposeStep, Proposer, ProposerConfig};
use temporis_pipeline::{PipelineError, SourceError};
use temporis_protocol::output::OutputRootV0;

/// An L2 that has blocks `0..=len` with made-up but distinct outputs.
#[derive(Debug, Default)]
pub(crate) struct MemOutputs {
    pub(crate) safe: AtomicU64,
    pub(crate) outputs: Mutex<BTreeMap<u64, OutputAtBlock>>,
}

impl MemOutputs {
    pub(crate) fn with_blocks(len: u64) -> Arc<Self> {
        let s = Self::default();
        let mut outputs = s.outputs.lock().unwrap();
        for n in 0..=len {
            let output = OutputRootV0 {
                state_root: keccak256(format!("state {n}")),
                message_passer_storage_root: keccak256(format!("passer {n}")),
                latest_block_hash: keccak256(format!("block {n}")),
            };
            outputs.insert(n, OutputAtBlock::new(n, output));
        }
        drop(outputs);
        Arc::new(s)
    }

    fn root(&self, n: u64) -> B256 {
        self.outputs.lock().unwrap()[&n].output_root
    }
}

impl OutputSource for MemOutputs {
    async fn safe_head(&self) -> Result<u64, SourceError> {
        Ok(self.safe.load(Ordering::SeqCst))
    }
    async fn output_at(&self, n: u64) -> Result<Option<OutputAtBlock>, SourceError> {
        Ok(self.outputs.lock().unwrap().get(&n).copied())
    }
}

async fn proposer(l1: &L1, source: Arc<MemOutputs>) -> Proposer<Arc<MemOutputs>> {
    let txmgr = TxManager::new(
        l1.provider.clone(),
        Role::Proposer.signer(),
        TxManagerConfig { poll_interval: Duration::from_millis(50), ..TxManagerConfig::default() },
    )
    .await
    .unwrap();
    let config = ProposerConfig {
        interval: Duration::from_millis(100),
        ..ProposerConfig::new(l1.contracts.output_oracle)
    };
    Proposer::new(source, Arc::new(txmgr), config).await.unwrap()
}

async fn advance_time(l1: &L1, secs: u64) {
    let _: serde_json::Value = l1.rpc("evm_increaseTime", serde_json::json!([secs])).await;
    l1.mine(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proposes_each_interval_once_safe_and_restarts_from_the_oracle() {
    let l1 = L1::start(&[]).await;
    let source = MemOutputs::with_blocks(100);
    let p = proposer(&l1, source.clone()).await;
    let oracle = OutputOracle::new(l1.contracts.output_oracle, &l1.provider);
    assert_eq!(p.bond(), temporis_deploy::l1::DeployConfig::devnet().output_bond_wei);

    // Block 10 is the first output; with the safe head at 5 nothing is due.
    source.safe.store(5, Ordering::SeqCst);
    assert_eq!(p.tick().await.unwrap(), ProposeStep::NotSafe { next: 10, safe_head: 5 });

    // Safe, but L2 block 10's time (start + 10 s) may not be before the L1 head's yet.
    source.safe.store(25, Ordering::SeqCst);
    if let ProposeStep::TooEarly { next, l2_timestamp, l1_timestamp } = p.tick().await.unwrap() {
        assert_eq!(next, 10);
        assert!(l2_timestamp >= l1_timestamp);
    }
    advance_time(&l1, 60).await;

    let step = p.tick().await.unwrap();
    let ProposeStep::Proposed { l2_block: 10, output_root, tx, l1_block } = step else { panic!("{step:?}") };
    assert_eq!(output_root, source.root(10));
    let receipt = l1.provider.get_transaction_receipt(tx).await.unwrap().unwrap();
    assert_eq!(receipt.from, Role::Proposer.address());
    assert!(receipt.block_number.unwrap() > l1_block);
    let stored = oracle.getL2Output(U256::ZERO).call().await.unwrap();
    assert_eq!((stored.outputRoot, stored.l2BlockNumber), (source.root(10), 10));
    assert_eq!(oracle.bondHolder(U256::ZERO).call().await.unwrap(), Role::Proposer.address());
    assert_eq!(l1.provider.get_balance(l1.contracts.output_oracle).await.unwrap(), p.bond());

    assert!(matches!(p.tick().await.unwrap(), ProposeStep::Proposed { l2_block: 20, .. }));
    assert_eq!(p.tick().await.unwrap(), ProposeStep::NotSafe { next: 30, safe_head: 25 });

    // A new proposer (a restart) reads where to go on from the oracle: nothing twice.
    let again = proposer(&l1, source.clone()).await;
    assert_eq!(again.tick().await.unwrap(), ProposeStep::NotSafe { next: 30, safe_head: 25 });
    assert_eq!(oracle.nextOutputIndex().call().await.unwrap(), U256::from(2));

    // The run loop catches up to the safe head and stops on shutdown.
    source.safe.store(47, Ordering::SeqCst);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(async move { again.run(async { stopped.await.unwrap_or(()) }).await });
    for _ in 0..100 {
        if oracle.nextBlockNumber().call().await.unwrap() == U256::from(50) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.send(()).unwrap();
    run.await.unwrap();
    assert_eq!(oracle.nextBlockNumber().call().await.unwrap(), U256::from(50));
    for (i, n) in [10u64, 20, 30, 40].into_iter().enumerate() {
        let o = oracle.getL2Output(U256::from(i)).call().await.unwrap();
        assert_eq!((o.outputRoot, o.l2BlockNumber), (source.root(n), u128::from(n)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refuses_a_wrong_key_a_wrong_bond_and_a_bad_output() {
    let l1 = L1::start(&[]).await;
    let source = MemOutputs::with_blocks(20);
    let cfg = ProposerConfig::new(l1.contracts.output_oracle);
    let user = Arc::new(
        TxManager::new(l1.provider.clone(), Role::User1.signer(), TxManagerConfig::default()).await.unwrap(),
    );
    assert!(matches!(Proposer::new(source.clone(), user, cfg.clone()).await, Err(PipelineError::Config(_))));
    let key = Arc::new(
        TxManager::new(l1.provider.clone(), Role::Proposer.signer(), TxManagerConfig::default())
            .await
            .unwrap(),
    );
    let wrong_bond = ProposerConfig { bond: Some(U256::from(1)), ..cfg.clone() };
    assert!(matches!(
        Proposer::new(source.clone(), key.clone(), wrong_bond).await,
        Err(PipelineError::Config(_))
    ));

    // A source whose root does not match its preimage is not posted.
    source.outputs.lock().unwrap().get_mut(&10).unwrap().output_root = B256::repeat_byte(1);
    source.safe.store(10, Ordering::SeqCst);
    advance_time(&l1, 60).await;
    let p = Proposer::new(source, key, cfg).await.unwrap();
    assert!(matches!(p.tick().await, Err(PipelineError::Source(_))));
}
