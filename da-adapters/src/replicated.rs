//! The replicated backend: writes every blob to several backends, reads from the first that
//! returns verified data, and reports the replicas that failed.
//!
//! **Writes** go to all replicas at once. A write succeeds when at least `min_writes` replicas
//! stored the blob (default: all of them); the others are reported as degraded. When every
//! replica that stored the blob answered the same commitment (several local stores or DA
//! servers, which all answer `0x00 ‖ keccak256(data)`), that commitment is the answer. When
//! they differ (a local store and an L1 calldata inbox, say), the answer is a *replicated
//! commitment* that carries each of them, so that a reader who can reach only one of the layers
//! still finds the data:
//!
//! ```text
//! 0x01 ‖ 0xee ‖ count (u8) ‖ count × ( len (u16, big-endian) ‖ commitment (len bytes) )
//! ```
//!
//! **Reads** try the replicas in the order they were given: for a replicated commitment, each
//! inner commitment in turn, on every replica that serves its kind. The first replica whose
//! answer verifies wins; a replica that fails (unreachable, corrupt, missing data) is reported as
//! degraded and the next is tried. Each backend checks its own answer against the commitment,
//! and keccak commitments are checked once more here.

use crate::{AnyBackend, DaBackend, DaError, Result};
use alloy_primitives::Bytes;
use std::sync::Mutex;
use temporis_protocol::commitment::{Commitment, DA_LAYER_REPLICATED};
use tracing::warn;

const BACKEND: &str = "replicated";

/// Most replicas one replicated commitment can name.
pub const MAX_REPLICAS: usize = u8::MAX as usize;

/// One replica: a backend and the name it is reported under.
#[derive(Debug)]
struct Replica {
    name: String,
    backend: AnyBackend,
    /// The reason of the last failure, cleared by the next success.
    last_error: Mutex<Option<String>>,
}

impl Replica {
    fn record<T>(&self, result: &Result<T>) {
        let mut last = self.last_error.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(_) => *last = None,
            // A replica that does not serve a kind of commitment is not failing.
            Err(DaError::UnsupportedCommitment { .. }) => {}
            Err(e) => {
                warn!(target: "da::replicated", replica = %self.name, err = %e, "replica failed");
                *last = Some(e.to_string());
            }
        }
    }
}

/// Several backends kept in step; see the [module docs](self).
#[derive(Debug)]
pub struct ReplicatedBackend {
    replicas: Vec<Replica>,
    min_writes: usize,
}

impl ReplicatedBackend {
    /// Replicates over `replicas` (name, backend), in read order. Every write must reach all of
    /// them unless [`ReplicatedBackend::with_min_writes`] lowers that.
    pub fn new(replicas: Vec<(String, AnyBackend)>) -> Result<Self> {
        if replicas.is_empty() || replicas.len() > MAX_REPLICAS {
            return Err(DaError::Malformed {
                backend: BACKEND,
                msg: format!("needs 1 to {MAX_REPLICAS} replicas, got {}", replicas.len()),
            });
        }
        let min_writes = replicas.len();
        let replicas = replicas
            .into_iter()
            .map(|(name, backend)| Replica { name, backend, last_error: Mutex::new(None) })
            .collect();
        Ok(Self { replicas, min_writes })
    }

    /// Accepts a write once `min_writes` replicas (at least 1, at most all) have stored it.
    pub fn with_min_writes(mut self, min_writes: usize) -> Self {
        self.min_writes = min_writes.clamp(1, self.replicas.len());
        self
    }

    /// The replicas' names, in read order.
    pub fn names(&self) -> Vec<&str> {
        self.replicas.iter().map(|r| r.name.as_str()).collect()
    }
}

/// Encodes a replicated commitment over `inner` (at most [`MAX_REPLICAS`] of them, each below
/// 64 KiB encoded).
pub fn encode_replicated(inner: &[Commitment]) -> Result<Commitment> {
    let count = u8::try_from(inner.len()).map_err(|_| DaError::Malformed {
        backend: BACKEND,
        msg: format!("{} commitments do not fit one replicated commitment", inner.len()),
    })?;
    let mut payload = vec![count];
    for c in inner {
        let bytes = c.encode();
        let len = u16::try_from(bytes.len()).map_err(|_| DaError::Malformed {
            backend: BACKEND,
            msg: format!("inner commitment of {} bytes is too long", bytes.len()),
        })?;
        payload.extend_from_slice(&len.to_be_bytes());
        payload.extend_from_slice(&bytes);
    }
    Ok(Commitment::Generic { da_layer: DA_LAYER_REPLICATED, payload: payload.into() })
}

/// The inner commitments of a replicated commitment's payload.
pub fn decode_replicated(payload: &[u8]) -> Result<Vec<Commitment>> {
    let malformed = |msg: String| DaError::Malformed { backend: BACKEND, msg };
    let (&count, mut rest) =
        payload.split_first().ok_or_else(|| malformed("empty replicated commitment".into()))?;
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or_else(|| malformed(format!("inner commitment {i}: length missing")))?;
        let len = u16::from_be_bytes(*len) as usize;
        if tail.len() < len {
            return Err(malformed(format!(
                "inner commitment {i}: {len} bytes announced, {} left",
                tail.len()
            )));
        }
        let (bytes, tail) = tail.split_at(len);
        let c = Commitment::decode(bytes)?;
        if matches!(c, Commitment::Generic { da_layer: DA_LAYER_REPLICATED, .. }) {
            return Err(malformed(format!("inner commitment {i} is itself replicated")));
        }
        out.push(c);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(malformed(format!("{} bytes after the last inner commitment", rest.len())));
    }
    if out.is_empty() {
        return Err(malformed("replicated commitment names no commitment".into()));
    }
    Ok(out)
}

impl DaBackend for ReplicatedBackend {
    async fn put(&self, data: Bytes) -> Result<Commitment> {
        let mut tasks = tokio::task::JoinSet::new();
        for (i, r) in self.replicas.iter().enumerate() {
            let (backend, data) = (r.backend.clone(), data.clone());
            tasks.spawn(async move { (i, backend.put(data).await) });
        }
        let mut results: Vec<Option<Result<Commitment>>> = (0..self.replicas.len()).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            let (i, result) = joined.map_err(|e| DaError::Task(e.to_string()))?;
            self.replicas[i].record(&result);
            results[i] = Some(result);
        }
        let mut stored: Vec<Commitment> = Vec::new();
        let mut failures = Vec::new();
        for (r, result) in self.replicas.iter().zip(results) {
            match result.expect("every replica's task was joined") {
                Ok(c) => {
                    if !stored.contains(&c) {
                        stored.push(c);
                    }
                }
                Err(e) => failures.push((r.name.as_str(), e)),
            }
        }
        let written = self.replicas.len() - failures.len();
        if written < self.min_writes {
            // A blob too large for every replica stays TooLarge: the batcher acts on that one
            // (it splits the batch), so its meaning must survive replication.
            if written == 0 && failures.iter().all(|(_, e)| matches!(e, DaError::TooLarge { .. })) {
                return Err(failures.swap_remove(0).1);
            }
            let failures = failures.iter().map(|(name, e)| format!("{name}: {e}")).collect::<Vec<_>>();
            return Err(DaError::Replication {
                written,
                wanted: self.min_writes,
                failures: failures.join("; "),
            });
        }
        match stored.as_slice() {
            [one] => Ok(one.clone()),
            many => encode_replicated(many),
        }
    }

    async fn get(&self, commitment: &Commitment) -> Result<Bytes> {
        let inner = match commitment {
            Commitment::Generic { da_layer: DA_LAYER_REPLICATED, payload } => decode_replicated(payload)?,
            other => vec![other.clone()],
        };
        let mut failures = Vec::new();
        let mut served = false;
        for c in &inner {
            for r in &self.replicas {
                let result = r.backend.get(c).await.and_then(|data| match c.verifies_keccak(&data) {
                    Some(false) => Err(DaError::CommitmentMismatch { commitment: c.clone() }),
                    _ => Ok(data),
                });
                r.record(&result);
                match result {
                    Ok(data) => return Ok(data),
                    Err(DaError::UnsupportedCommitment { .. }) => {}
                    Err(DaError::NotFound(_)) => served = true,
                    Err(e) => {
                        served = true;
                        failures.push(format!("{}: {e}", r.name));
                    }
                }
            }
        }
        if failures.is_empty() {
            if served {
                Err(DaError::NotFound(commitment.clone()))
            } else {
                Err(DaError::UnsupportedCommitment { backend: BACKEND, commitment: commitment.clone() })
            }
        } else {
            Err(DaError::Replication { written: 0, wanted: 1, failures: failures.join("; ") })
        }
    }

    fn degraded(&self) -> Vec<String> {
        self.replicas
            .iter()
            .filter_map(|r| {
                let last = r.last_error.lock().unwrap_or_else(|e| e.into_inner());
                last.as_ref().map(|e| format!("{}: {e}", r.name))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicated_commitment_round_trips_and_rejects_garbage() {
        let inner = vec![
            Commitment::keccak(b"x"),
            Commitment::Generic { da_layer: 0xe1, payload: Bytes::from(vec![7; 64]) },
        ];
        let c = encode_replicated(&inner).unwrap();
        let Commitment::Generic { da_layer, payload } = &c else { panic!("generic expected") };
        assert_eq!(*da_layer, DA_LAYER_REPLICATED);
        assert_eq!(decode_replicated(payload).unwrap(), inner);
        // Through the wire form too.
        assert_eq!(Commitment::decode(&c.encode()).unwrap(), c);

        for bad in [&[][..], &[0][..], &[1][..], &[1, 0][..], &[1, 0, 33, 0][..], &[1, 0, 1, 0x00, 9][..]] {
            assert!(decode_replicated(bad).is_err(), "{bad:?}");
        }
        // Trailing bytes and nested replicated commitments are refused.
        let Commitment::Generic { payload, .. } = encode_replicated(&inner[..1]).unwrap() else {
            unreachable!()
        };
        let mut trailing = payload.to_vec();
        trailing.push(0);
        assert!(decode_replicated(&trailing).is_err());
        let nested = encode_replicated(&[c]).unwrap();
        let Commitment::Generic { payload, .. } = nested else { unreachable!() };
        assert!(decode_replicated(&payload).is_err());
    }
}
