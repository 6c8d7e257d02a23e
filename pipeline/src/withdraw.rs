//! Withdrawals L2 → L1: finding a withdrawal in its L2 receipt, building the portal's proof from
//! the L2's `eth_getProof` against a proposed output, and the portal calls (the library side of
//! `temporis-withdraw`).
//!
//! A withdrawal is proven against the first output at or after its L2 block
//! (`OutputOracle.getL2OutputIndexAfter`): the proof opens `sentMessages[withdrawalHash]` in the
//! `L2ToL1MessagePasser` storage of that output's block, and the output root's preimage
//! (`OutputRootProof`: state root, message-passer storage root, block hash) must hash to the
//! root the oracle holds. After `FINALIZATION_PERIOD_SECONDS` it can be finalized.

use crate::error::{PipelineError, Result, contract_err};
use crate::proposer::OutputAtBlock;
use alloy::eips::BlockId;
use alloy::primitives::{B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol_types::SolEvent;
use temporis_contracts::L2ToL1MessagePasser::MessagePassed;
use temporis_contracts::portal::Types;
use temporis_contracts::{OutputOracle, Portal};
use temporis_protocol::chain::L2_TO_L1_MESSAGE_PASSER_PREDEPLOY;
use temporis_protocol::output::OutputRootV0;
use temporis_protocol::withdrawal::{WithdrawalTransaction, sent_message_slot};

fn err(msg: impl Into<String>) -> PipelineError {
    PipelineError::Withdrawal(msg.into())
}

/// A withdrawal initiated on L2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    /// The withdrawal as the portal takes it.
    pub tx: WithdrawalTransaction,
    /// Its hash (`sentMessages` key).
    pub hash: B256,
    /// The L2 block that initiated it.
    pub l2_block: u64,
}

impl Withdrawal {
    /// The portal's struct.
    pub fn to_portal(&self) -> Types::WithdrawalTransaction {
        Types::WithdrawalTransaction {
            nonce: self.tx.nonce,
            sender: self.tx.sender,
            target: self.tx.target,
            value: self.tx.value,
            gasLimit: self.tx.gas_limit,
            data: self.tx.data.clone(),
        }
    }
}

/// The withdrawals (`MessagePassed` events of the message-passer predeploy) in an L2 receipt,
/// in log order; each event's hash is checked against the one computed from its fields.
pub fn withdrawals_in_receipt(receipt: &TransactionReceipt) -> Result<Vec<Withdrawal>> {
    let l2_block = receipt.block_number.ok_or_else(|| err("the L2 transaction is not mined"))?;
    let mut out = Vec::new();
    for log in receipt.inner.logs() {
        if log.address() != L2_TO_L1_MESSAGE_PASSER_PREDEPLOY
            || log.topic0() != Some(&MessagePassed::SIGNATURE_HASH)
        {
            continue;
        }
        let e = MessagePassed::decode_log(&log.inner)
            .map_err(|e| err(format!("undecodable MessagePassed: {e}")))?;
        let tx = WithdrawalTransaction {
            nonce: e.nonce,
            sender: e.sender,
            target: e.target,
            value: e.value,
            gas_limit: e.gasLimit,
            data: e.data.data.clone(),
        };
        let hash = tx.hash();
        if hash != e.withdrawalHash {
            return Err(err(format!(
                "MessagePassed says withdrawal hash {}, its fields hash to {hash}",
                e.withdrawalHash
            )));
        }
        out.push(Withdrawal { tx, hash, l2_block });
    }
    Ok(out)
}

/// The output of L2 block `n` read over the L2's JSON-RPC: the block's state root and hash, and
/// the message passer's storage root from `eth_getProof` at that block.
pub async fn output_at_rpc(l2: &DynProvider, n: u64) -> Result<Option<OutputAtBlock>> {
    let Some(block) = l2.get_block_by_number(n.into()).await? else { return Ok(None) };
    let proof =
        l2.get_proof(L2_TO_L1_MESSAGE_PASSER_PREDEPLOY, Vec::new()).block_id(BlockId::number(n)).await?;
    let output = OutputRootV0 {
        state_root: block.header.state_root,
        message_passer_storage_root: proof.storage_hash,
        latest_block_hash: block.header.hash,
    };
    Ok(Some(OutputAtBlock::new(n, output)))
}

/// Everything `proveWithdrawalTransaction` takes besides the withdrawal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalProof {
    /// Index of the output proven against.
    pub output_index: U256,
    /// Its L2 block.
    pub output_block: u64,
    /// Its root, as the oracle holds it.
    pub output_root: B256,
    /// The root's preimage.
    pub output: OutputRootV0,
    /// Storage proof of `sentMessages[hash]` in the message passer, root to leaf.
    pub storage_proof: Vec<Bytes>,
}

impl WithdrawalProof {
    /// The portal's `OutputRootProof`.
    pub fn output_root_proof(&self) -> Types::OutputRootProof {
        Types::OutputRootProof {
            version: OutputRootV0::VERSION,
            stateRoot: self.output.state_root,
            messagePasserStorageRoot: self.output.message_passer_storage_root,
            latestBlockhash: self.output.latest_block_hash,
        }
    }
}

/// Builds the proof of `w` against the first output at or after its block: checks that the L2
/// has the slot set to 1 and that the L2's output of that block is the root the oracle holds
/// (else the L2 node and the L1 disagree, and the portal would refuse the proof).
pub async fn build_proof(
    l1: &DynProvider,
    l2: &DynProvider,
    oracle: alloy::primitives::Address,
    w: &Withdrawal,
) -> Result<WithdrawalProof> {
    let oracle = OutputOracle::new(oracle, l1);
    let output_index = oracle.getL2OutputIndexAfter(U256::from(w.l2_block)).call().await.map_err(|e| {
        err(format!("no output covers L2 block {} yet (getL2OutputIndexAfter reverted: {e})", w.l2_block))
    })?;
    let proposal =
        oracle.getL2Output(output_index).call().await.map_err(contract_err("OutputOracle.getL2Output"))?;
    let output_block = u64::try_from(proposal.l2BlockNumber).map_err(|_| err("output block over 2^64"))?;
    let slot = sent_message_slot(w.hash);
    let proof = l2
        .get_proof(L2_TO_L1_MESSAGE_PASSER_PREDEPLOY, vec![slot])
        .block_id(BlockId::number(output_block))
        .await?;
    let storage = proof.storage_proof.first().ok_or_else(|| err("eth_getProof returned no storage proof"))?;
    if storage.value != U256::from(1) {
        return Err(err(format!(
            "the L2 has sentMessages[{}] = {} at block {output_block}: not a withdrawal of that chain",
            w.hash, storage.value
        )));
    }
    let block = l2
        .get_block_by_number(output_block.into())
        .await?
        .ok_or(PipelineError::MissingBlock(output_block))?;
    let output = OutputRootV0 {
        state_root: block.header.state_root,
        message_passer_storage_root: proof.storage_hash,
        latest_block_hash: block.header.hash,
    };
    if output.root() != proposal.outputRoot {
        return Err(err(format!(
            "output {output_index} (L2 block {output_block}) on L1 is {}, the L2 node's output is {}",
            proposal.outputRoot,
            output.root()
        )));
    }
    Ok(WithdrawalProof {
        output_index,
        output_block,
        output_root: proposal.outputRoot,
        output,
        storage_proof: storage.proof.clone(),
    })
}

/// The `proveWithdrawalTransaction` call.
pub fn prove_call(w: &Withdrawal, p: &WithdrawalProof) -> Portal::proveWithdrawalTransactionCall {
    Portal::proveWithdrawalTransactionCall {
        withdrawal: w.to_portal(),
        l2OutputIndex: p.output_index,
        outputRootProof: p.output_root_proof(),
        withdrawalProof: p.storage_proof.clone(),
    }
}

/// The `finalizeWithdrawalTransaction` call.
pub fn finalize_call(w: &Withdrawal) -> Portal::finalizeWithdrawalTransactionCall {
    Portal::finalizeWithdrawalTransactionCall { withdrawal: w.to_portal() }
}

/// Where a withdrawal stands on L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithdrawalStatus {
    /// Index of the first output covering its block, if one is proposed.
    pub covering_output: Option<U256>,
    /// L1 timestamp of its proof, if proven.
    pub proven_at: Option<u64>,
    /// Earliest L1 time (exclusive) at which it can be finalized, if proven.
    pub finalizable_after: Option<u64>,
    /// Whether it is finalized.
    pub finalized: bool,
}

/// Reads the withdrawal's status from the portal and the oracle.
pub async fn status(
    l1: &DynProvider,
    portal: alloy::primitives::Address,
    oracle: alloy::primitives::Address,
    w: &Withdrawal,
) -> Result<WithdrawalStatus> {
    let portal = Portal::new(portal, l1);
    let oracle = OutputOracle::new(oracle, l1);
    let covering_output = oracle.getL2OutputIndexAfter(U256::from(w.l2_block)).call().await.ok();
    let proven =
        portal.provenWithdrawals(w.hash).call().await.map_err(contract_err("Portal.provenWithdrawals"))?;
    let period = portal
        .FINALIZATION_PERIOD_SECONDS()
        .call()
        .await
        .map_err(contract_err("Portal.FINALIZATION_PERIOD_SECONDS"))?;
    let finalized = portal
        .finalizedWithdrawals(w.hash)
        .call()
        .await
        .map_err(contract_err("Portal.finalizedWithdrawals"))?;
    let proven_at = (proven.timestamp != 0).then(|| u64::try_from(proven.timestamp).unwrap_or(u64::MAX));
    Ok(WithdrawalStatus {
        covering_output,
        proven_at,
        finalizable_after: proven_at.map(|t| t.saturating_add(period.saturating_to())),
        finalized,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, keccak256};
    use alloy::sol_types::{SolCall, SolValue};

    fn sample() -> (Withdrawal, WithdrawalProof) {
        let tx = WithdrawalTransaction {
            nonce: temporis_protocol::withdrawal::encode_versioned_nonce(7, 1),
            sender: Address::repeat_byte(1),
            target: Address::repeat_byte(2),
            value: U256::from(3),
            gas_limit: U256::from(100_000),
            data: Bytes::from_static(b"call"),
        };
        let hash = tx.hash();
        let output = OutputRootV0 {
            state_root: keccak256("state"),
            message_passer_storage_root: keccak256("storage"),
            latest_block_hash: keccak256("block"),
        };
        let proof = WithdrawalProof {
            output_index: U256::from(4),
            output_block: 50,
            output_root: output.root(),
            output,
            storage_proof: vec![Bytes::from_static(b"node0"), Bytes::from_static(b"node1")],
        };
        (Withdrawal { tx, hash, l2_block: 42 }, proof)
    }

    #[test]
    fn prove_call_carries_the_withdrawal_the_index_and_the_output_preimage() {
        let (w, p) = sample();
        let call = prove_call(&w, &p);
        assert_eq!(call.l2OutputIndex, U256::from(4));
        assert_eq!(call.withdrawalProof, p.storage_proof);
        let o = &call.outputRootProof;
        assert_eq!(o.version, B256::ZERO);
        // Hashing.hashOutputRootProof = keccak256(abi.encode(version, stateRoot, storageRoot, blockHash)).
        let root =
            keccak256((o.version, o.stateRoot, o.messagePasserStorageRoot, o.latestBlockhash).abi_encode());
        assert_eq!(root, p.output_root);
        // Hashing.hashWithdrawal over the portal's struct is the message passer's hash.
        let t = &call.withdrawal;
        let h =
            keccak256((t.nonce, t.sender, t.target, t.value, t.gasLimit, t.data.clone()).abi_encode_params());
        assert_eq!(h, w.hash);
        assert_eq!(finalize_call(&w).withdrawal.nonce, call.withdrawal.nonce);
        // The calldata is the portal's selector and the ABI encoding of the four arguments.
        let data = call.abi_encode();
        assert_eq!(data[..4], Portal::proveWithdrawalTransactionCall::SELECTOR);
    }
}
