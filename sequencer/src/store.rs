//! The chain store: headers, bodies, senders, receipts and the transaction index in redb.
//!
//! Each block is written in one redb write transaction with immediate durability (redb's
//! default: the commit returns after the data and the new root are on disk), and the node
//! makes a block visible to RPC only after that commit returned. So a block any client was
//! told about survives `kill -9` and power loss; a block whose commit did not finish never
//! existed for anyone.
//!
//! The head state is not stored (but for periodic snapshots): on open the node replays the
//! stored blocks from the newest snapshot (see `Node::open`). Each block's undo log is, so
//! that account and storage reads at past blocks are served from the head state.

use std::path::Path;

use alloy::consensus::Header;
use alloy::eips::{Decodable2718, Encodable2718};
use alloy::rlp::{Decodable, Encodable};
use alloy_primitives::{Address, B256, Bytes};
use op_alloy_consensus::{OpReceiptEnvelope, OpTxEnvelope};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};

use crate::rollup::BlockOutput;
use crate::{Result, SequencerError};

const HEADERS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("headers");
const BODIES: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("bodies");
const SENDERS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("senders");
const RECEIPTS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("receipts");
const HASHES: TableDefinition<'_, &[u8; 32], u64> = TableDefinition::new("block_hashes");
const TX_INDEX: TableDefinition<'_, &[u8; 32], (u64, u32)> = TableDefinition::new("tx_index");
const META: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("meta");
const L1_ORIGINS: TableDefinition<'_, u64, (u64, &[u8; 32], u64)> = TableDefinition::new("l1_origins");
/// Per block: the `L2ToL1MessagePasser`'s storage root after it and its sequence number in its
/// epoch, so that the output root of any past block is answered without its state.
const BLOCK_OUTPUTS: TableDefinition<'_, u64, (&[u8; 32], u64)> = TableDefinition::new("block_outputs");
/// Per block: its undo log (the account and storage values it replaced, see
/// `snapshot::encode_pre_state`), from which the state at any past block is the head state with
/// the logs of the blocks after it put back.
const STATE_UNDO: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("state_undo");

/// The L1 block an L2 block was built on (OP Stack's "L1 origin"): what deposits and the L1
/// attributes of the block come from. Standalone (dev) blocks have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct L1Origin {
    /// L1 block number.
    #[serde(with = "alloy::serde::quantity")]
    pub number: u64,
    /// L1 block hash.
    pub hash: B256,
    /// L1 block timestamp.
    #[serde(with = "alloy::serde::quantity")]
    pub timestamp: u64,
}

/// A block as stored: header, its hash, transactions with their senders, receipts.
#[derive(Debug, Clone)]
pub struct StoredBlock {
    /// The header.
    pub header: Header,
    /// `keccak256(rlp(header))`.
    pub hash: B256,
    /// Transactions, in order (OP envelopes: deposits first).
    pub txs: Vec<OpTxEnvelope>,
    /// Their senders.
    pub senders: Vec<Address>,
    /// Their receipts.
    pub receipts: Vec<OpReceiptEnvelope>,
    /// The L1 block it was built on (none when standalone).
    pub l1_origin: Option<L1Origin>,
}

/// The redb chain store.
#[derive(Debug)]
pub struct ChainStore {
    db: Database,
}

fn db_err(e: impl std::fmt::Display) -> SequencerError {
    SequencerError::Store(e.to_string())
}

fn decode_list<T>(bytes: &[u8], mut f: impl FnMut(&[u8]) -> Result<T>) -> Result<Vec<T>> {
    let items = Vec::<Bytes>::decode(&mut &bytes[..]).map_err(db_err)?;
    items.iter().map(|b| f(b)).collect()
}

impl ChainStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let db = Database::create(dir.join("chain.redb")).map_err(db_err)?;
        let tx = db.begin_write().map_err(db_err)?;
        {
            // Create every table so that readers never meet a missing one.
            tx.open_table(HEADERS).map_err(db_err)?;
            tx.open_table(BODIES).map_err(db_err)?;
            tx.open_table(SENDERS).map_err(db_err)?;
            tx.open_table(RECEIPTS).map_err(db_err)?;
            tx.open_table(HASHES).map_err(db_err)?;
            tx.open_table(TX_INDEX).map_err(db_err)?;
            tx.open_table(META).map_err(db_err)?;
            tx.open_table(L1_ORIGINS).map_err(db_err)?;
            tx.open_table(BLOCK_OUTPUTS).map_err(db_err)?;
            tx.open_table(STATE_UNDO).map_err(db_err)?;
        }
        tx.commit().map_err(db_err)?;
        Ok(Self { db })
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let table = tx.open_table(META).map_err(db_err)?;
        Ok(table.get(key).map_err(db_err)?.map(|v| v.value().to_vec()))
    }

    /// Number of the newest stored block, if any.
    pub fn head_number(&self) -> Result<Option<u64>> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let table = tx.open_table(HEADERS).map_err(db_err)?;
        if table.len().map_err(db_err)? == 0 {
            return Ok(None);
        }
        Ok(table.last().map_err(db_err)?.map(|(k, _)| k.value()))
    }

    /// Writes `block` with its output data, its undo log (none for genesis) and the metadata
    /// `meta` in one durable transaction.
    pub fn commit_block(
        &self,
        block: &StoredBlock,
        output: &BlockOutput,
        undo: Option<&[u8]>,
        meta: &[(&str, &[u8])],
    ) -> Result<()> {
        let number = block.header.number;
        let mut header = Vec::new();
        block.header.encode(&mut header);
        let body: Vec<Bytes> = block.txs.iter().map(|t| t.encoded_2718().into()).collect();
        let receipts: Vec<Bytes> = block.receipts.iter().map(|r| r.encoded_2718().into()).collect();
        let senders: Vec<u8> = block.senders.iter().flat_map(|a| a.0.0).collect();
        let tx = self.db.begin_write().map_err(db_err)?;
        {
            tx.open_table(HEADERS).map_err(db_err)?.insert(number, header.as_slice()).map_err(db_err)?;
            tx.open_table(BODIES)
                .map_err(db_err)?
                .insert(number, alloy::rlp::encode(&body).as_slice())
                .map_err(db_err)?;
            tx.open_table(RECEIPTS)
                .map_err(db_err)?
                .insert(number, alloy::rlp::encode(&receipts).as_slice())
                .map_err(db_err)?;
            tx.open_table(SENDERS).map_err(db_err)?.insert(number, senders.as_slice()).map_err(db_err)?;
            tx.open_table(HASHES).map_err(db_err)?.insert(&block.hash.0, number).map_err(db_err)?;
            let mut index = tx.open_table(TX_INDEX).map_err(db_err)?;
            for (i, t) in block.txs.iter().enumerate() {
                index.insert(&t.tx_hash().0, (number, i as u32)).map_err(db_err)?;
            }
            if let Some(o) = &block.l1_origin {
                tx.open_table(L1_ORIGINS)
                    .map_err(db_err)?
                    .insert(number, (o.number, &o.hash.0, o.timestamp))
                    .map_err(db_err)?;
            }
            tx.open_table(BLOCK_OUTPUTS)
                .map_err(db_err)?
                .insert(number, (&output.message_passer_storage_root.0, output.sequence_number))
                .map_err(db_err)?;
            if let Some(undo) = undo {
                tx.open_table(STATE_UNDO).map_err(db_err)?.insert(number, undo).map_err(db_err)?;
            }
            let mut meta_table = tx.open_table(META).map_err(db_err)?;
            for (k, v) in meta {
                meta_table.insert(*k, *v).map_err(db_err)?;
            }
        }
        tx.commit().map_err(db_err)?;
        Ok(())
    }

    /// The header of block `number`.
    pub fn header(&self, number: u64) -> Result<Option<Header>> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let table = tx.open_table(HEADERS).map_err(db_err)?;
        let Some(bytes) = table.get(number).map_err(db_err)? else { return Ok(None) };
        Header::decode(&mut bytes.value()).map(Some).map_err(db_err)
    }

    /// The number of the block with hash `hash`.
    pub fn number_of(&self, hash: &B256) -> Result<Option<u64>> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let table = tx.open_table(HASHES).map_err(db_err)?;
        Ok(table.get(&hash.0).map_err(db_err)?.map(|v| v.value()))
    }

    /// Where transaction `hash` was included: block number and index.
    pub fn tx_location(&self, hash: &B256) -> Result<Option<(u64, u32)>> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let table = tx.open_table(TX_INDEX).map_err(db_err)?;
        Ok(table.get(&hash.0).map_err(db_err)?.map(|v| v.value()))
    }

    /// The output data of block `number` (none for a block this store does not have, or one
    /// written before the store kept it).
    pub fn block_output(&self, number: u64) -> Result<Option<BlockOutput>> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let table = tx.open_table(BLOCK_OUTPUTS).map_err(db_err)?;
        Ok(table.get(number).map_err(db_err)?.map(|v| {
            let (root, sequence_number) = v.value();
            BlockOutput { message_passer_storage_root: B256::from(*root), sequence_number }
        }))
    }

    /// The undo logs of blocks `from..=to`, in order, read in one transaction; an error names
    /// the first block without one (genesis, or a block written before the store kept them).
    pub fn undo_logs(&self, from: u64, to: u64) -> Result<Vec<Vec<u8>>> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let table = tx.open_table(STATE_UNDO).map_err(db_err)?;
        (from..=to)
            .map(|n| {
                table
                    .get(n)
                    .map_err(db_err)?
                    .map(|v| v.value().to_vec())
                    .ok_or_else(|| SequencerError::Store(format!("no undo log stored for block {n}")))
            })
            .collect()
    }

    /// The whole block `number`.
    pub fn block(&self, number: u64) -> Result<Option<StoredBlock>> {
        let tx = self.db.begin_read().map_err(db_err)?;
        let headers = tx.open_table(HEADERS).map_err(db_err)?;
        let Some(header) = headers.get(number).map_err(db_err)? else { return Ok(None) };
        let header = Header::decode(&mut header.value()).map_err(db_err)?;
        let missing = || SequencerError::Store(format!("block {number} is incomplete"));
        let body = tx.open_table(BODIES).map_err(db_err)?.get(number).map_err(db_err)?.ok_or_else(missing)?;
        let txs = decode_list(body.value(), |b| OpTxEnvelope::decode_2718(&mut &b[..]).map_err(db_err))?;
        let receipts =
            tx.open_table(RECEIPTS).map_err(db_err)?.get(number).map_err(db_err)?.ok_or_else(missing)?;
        let receipts =
            decode_list(receipts.value(), |b| OpReceiptEnvelope::decode_2718(&mut &b[..]).map_err(db_err))?;
        let senders =
            tx.open_table(SENDERS).map_err(db_err)?.get(number).map_err(db_err)?.ok_or_else(missing)?;
        let senders = senders.value().chunks_exact(20).map(Address::from_slice).collect();
        let l1_origin = tx.open_table(L1_ORIGINS).map_err(db_err)?.get(number).map_err(db_err)?.map(|v| {
            let (number, hash, timestamp) = v.value();
            L1Origin { number, hash: B256::from(*hash), timestamp }
        });
        Ok(Some(StoredBlock { hash: header.hash_slow(), header, txs, senders, receipts, l1_origin }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_round_trips_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let header = Header { number: 0, gas_limit: 30_000_000, ..Header::default() };
        let block = StoredBlock {
            hash: header.hash_slow(),
            header,
            txs: vec![],
            senders: vec![],
            receipts: vec![],
            l1_origin: None,
        };
        {
            let store = ChainStore::open(dir.path()).unwrap();
            assert_eq!(store.head_number().unwrap(), None);
            store.commit_block(&block, &BlockOutput::default(), None, &[("k", b"v")]).unwrap();
        }
        let store = ChainStore::open(dir.path()).unwrap();
        assert_eq!(store.head_number().unwrap(), Some(0));
        assert_eq!(store.number_of(&block.hash).unwrap(), Some(0));
        assert_eq!(store.meta("k").unwrap().as_deref(), Some(&b"v"[..]));
        let read = store.block(0).unwrap().unwrap();
        assert_eq!(read.hash, block.hash);
        assert_eq!(read.l1_origin, None);
        assert!(store.block(1).unwrap().is_none());
        let origin = L1Origin { number: 7, hash: B256::repeat_byte(7), timestamp: 70 };
        let header = Header { number: 1, parent_hash: block.hash, ..Header::default() };
        let next = StoredBlock { hash: header.hash_slow(), header, l1_origin: Some(origin), ..block };
        let output = BlockOutput { message_passer_storage_root: B256::repeat_byte(0x16), sequence_number: 3 };
        store.commit_block(&next, &output, Some(b"undo"), &[]).unwrap();
        assert_eq!(store.undo_logs(1, 1).unwrap(), vec![b"undo".to_vec()]);
        assert!(store.undo_logs(0, 1).unwrap_err().to_string().contains("no undo log stored for block 0"));
        assert!(store.undo_logs(1, 2).unwrap_err().to_string().contains("no undo log stored for block 2"));
        assert_eq!(store.block(1).unwrap().unwrap().l1_origin, Some(origin));
        assert_eq!(store.block_output(1).unwrap(), Some(output));
        assert_eq!(store.block_output(0).unwrap(), Some(BlockOutput::default()));
        assert_eq!(store.block_output(2).unwrap(), None);
        assert_eq!(store.head_number().unwrap(), Some(1));
    }
}
