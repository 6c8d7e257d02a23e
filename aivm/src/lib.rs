#![doc = include_str!("../README.md")]

pub mod engine;
mod error;
pub mod kernels;
pub mod l1fee;
pub mod model;
pub mod pack;
pub mod precompiles;
pub mod publish;
pub mod quant;
pub mod state;
pub mod stf;
pub mod train;
pub mod trie;

pub use engine::{Output, infer, macs};
pub use error::{AivmError, Result};
pub use model::{Adapter, Model, ModelError};
pub use precompiles::{AivmPrecompile, AivmPrecompileSet, AivmPrecompiles};
pub use state::State;
pub use stf::{BlockInput, BlockOutcome, ExecError, ExecOptions, Executor, InvalidTx};

use alloy_primitives::Address;

/// First address of the AIVM precompile range (`0x…0A00`).
pub const AIVM_PRECOMPILE_FIRST: Address = precompile_address(0x0A00);
/// Last address of the AIVM precompile range (`0x…0AFF`).
pub const AIVM_PRECOMPILE_LAST: Address = precompile_address(0x0AFF);

/// The address whose last two bytes are `low` and all others zero.
pub const fn precompile_address(low: u16) -> Address {
    let mut bytes = [0u8; 20];
    let be = low.to_be_bytes();
    bytes[18] = be[0];
    bytes[19] = be[1];
    Address::new(bytes)
}

/// Whether `address` lies in the AIVM precompile range.
pub fn is_aivm_precompile(address: Address) -> bool {
    address[..18].iter().all(|b| *b == 0) && address[18] == 0x0A
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_is_clear_of_standard_precompiles_and_p256() {
        assert!(is_aivm_precompile(AIVM_PRECOMPILE_FIRST));
        assert!(is_aivm_precompile(AIVM_PRECOMPILE_LAST));
        assert!(!is_aivm_precompile(precompile_address(0x0100))); // P256VERIFY
        assert!(!is_aivm_precompile(precompile_address(0x0001))); // ecrecover
        assert!(!is_aivm_precompile(precompile_address(0x0B00)));
        let mut far = AIVM_PRECOMPILE_FIRST.0.0;
        far[0] = 1;
        assert!(!is_aivm_precompile(Address::new(far)));
    }
}
