//! Calldata backends against a real anvil: as Ethereum (chain 31337) and as Polygon (chain 137).

use crate::{anvil, signer};
use alloy::primitives::{B256, Bytes};
use temporis_da_adapters::calldata::{
    DA_LAYER_ETHEREUM_CALLDATA, DA_LAYER_POLYGON, DEFAULT_INBOX, MAX_CALLDATA_BLOB,
};
use temporis_da_adapters::{CalldataBackend, DaBackend, DaError};
use temporis_protocol::commitment::Commitment;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ethereum_calldata_round_trip_and_checks() {
    let a = anvil(31337);
    let da = CalldataBackend::ethereum(&a.endpoint(), signer(&a), DEFAULT_INBOX).unwrap();
    let data = Bytes::from(b"an L2 batch".repeat(1000));
    let c = da.put(data.clone()).await.unwrap();
    let Commitment::Generic { da_layer, payload } = &c else { panic!("generic commitment expected") };
    assert_eq!(*da_layer, DA_LAYER_ETHEREUM_CALLDATA);
    assert_eq!(payload.len(), 64);
    assert_eq!(da.get(&c).await.unwrap(), data);
    // The commitment survives its wire encoding.
    assert_eq!(da.get(&Commitment::decode(&c.encode()).unwrap()).await.unwrap(), data);

    // A commitment whose data hash is wrong (a flipped bit in transit) is refused.
    let mut bad = payload.to_vec();
    bad[40] ^= 1;
    let bad = Commitment::Generic { da_layer: *da_layer, payload: bad.into() };
    assert!(matches!(da.get(&bad).await, Err(DaError::CommitmentMismatch { .. })));

    // Unknown transaction → NotFound; another layer's or a keccak commitment → unsupported.
    let mut missing = vec![0u8; 64];
    missing[..32].copy_from_slice(B256::repeat_byte(7).as_slice());
    let missing = Commitment::Generic { da_layer: *da_layer, payload: missing.into() };
    assert!(matches!(da.get(&missing).await, Err(DaError::NotFound(_))));
    assert!(matches!(da.get(&Commitment::keccak(&data)).await, Err(DaError::UnsupportedCommitment { .. })));

    // Oversize blobs are refused before anything is sent.
    let big = Bytes::from(vec![1u8; MAX_CALLDATA_BLOB + 1]);
    assert!(matches!(da.put(big).await, Err(DaError::TooLarge { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polygon_calldata_on_chain_137() {
    let a = anvil(137);
    let da = CalldataBackend::polygon(&a.endpoint(), signer(&a), DEFAULT_INBOX).unwrap();
    assert_eq!(da.check_chain(&[137, 80002]).await.unwrap(), 137);
    let data = Bytes::from_static(b"polygon batch");
    let c = da.put(data.clone()).await.unwrap();
    assert!(matches!(c, Commitment::Generic { da_layer: DA_LAYER_POLYGON, .. }));
    assert_eq!(da.get(&c).await.unwrap(), data);

    // The same backend pointed at a non-Polygon chain says so.
    let eth = anvil(31337);
    let wrong = CalldataBackend::polygon(&eth.endpoint(), signer(&eth), DEFAULT_INBOX).unwrap();
    assert!(matches!(wrong.check_chain(&[137, 80002]).await, Err(DaError::Chain { .. })));
}
