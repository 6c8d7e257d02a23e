#![doc = include_str!("../README.md")]
// `sol!` generates items without doc comments; their docs are the contracts' NatSpec.
#![allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    ModelNFT,
    "artifacts/ModelNFT.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    ModelMarketplace,
    "artifacts/ModelMarketplace.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    InferenceMarket,
    "artifacts/InferenceMarket.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    BatchInbox,
    "artifacts/BatchInbox.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    OutputOracle,
    "artifacts/OutputOracle.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    Portal,
    "artifacts/Portal.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    L1Block,
    "artifacts/L1Block.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug)]
    L2ToL1MessagePasser,
    "artifacts/L2ToL1MessagePasser.json"
);
