#![doc = include_str!("../README.md")]

// Each contract gets a module of its own: `sol!` also emits the structs a contract's ABI uses
// under the name of the contract that declares them (`Types`, `IModelNFT`, …), and two artifacts
// that share such a library would otherwise collide at the crate root.

/// Bindings of `ModelNFT` and of the library structs its ABI uses.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod model_nft {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        ModelNFT,
        "artifacts/ModelNFT.json"
    );
}
pub use model_nft::ModelNFT;

/// Bindings of `ModelMarketplace` and of the library structs its ABI uses.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod model_marketplace {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        ModelMarketplace,
        "artifacts/ModelMarketplace.json"
    );
}
pub use model_marketplace::ModelMarketplace;

/// Bindings of `InferenceMarket` and of the library structs its ABI uses.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod inference_market {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        InferenceMarket,
        "artifacts/InferenceMarket.json"
    );
}
pub use inference_market::InferenceMarket;

/// Bindings of `BatchInbox` and of the library structs its ABI uses.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod batch_inbox {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        BatchInbox,
        "artifacts/BatchInbox.json"
    );
}
pub use batch_inbox::BatchInbox;

/// Bindings of `OutputOracle` and of the library structs its ABI uses.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod output_oracle {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        OutputOracle,
        "artifacts/OutputOracle.json"
    );
}
pub use output_oracle::OutputOracle;

/// Bindings of `Portal` and of the library structs its ABI uses.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod portal {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        Portal,
        "artifacts/Portal.json"
    );
}
pub use portal::Portal;

/// Bindings of `L1Block` and of the library structs its ABI uses.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod l1_block {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        L1Block,
        "artifacts/L1Block.json"
    );
}
pub use l1_block::L1Block;

/// Bindings of `GasPriceOracle`, the L1 data fee quote predeploy.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod gas_price_oracle {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        GasPriceOracle,
        "artifacts/GasPriceOracle.json"
    );
}
pub use gas_price_oracle::GasPriceOracle;

/// Bindings of `L2ToL1MessagePasser` and of the library structs its ABI uses.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod l2_to_l1_message_passer {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        L2ToL1MessagePasser,
        "artifacts/L2ToL1MessagePasser.json"
    );
}
pub use l2_to_l1_message_passer::L2ToL1MessagePasser;

/// Bindings of the `ModelRegistry` predeploy (publishing and inference) and of its structs.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod model_registry {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        ModelRegistry,
        "artifacts/ModelRegistry.json"
    );
}
pub use model_registry::ModelRegistry;

/// Bindings of the `DigitClassifier` example consumer of on-chain inference.
#[allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]
pub mod digit_classifier {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        DigitClassifier,
        "artifacts/DigitClassifier.json"
    );
}
pub use digit_classifier::DigitClassifier;
