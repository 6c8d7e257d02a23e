//! End-to-end tests over real processes. One binary, one module per flow.

mod devnet_marketplace;
mod l1_flows;
mod rollup;
