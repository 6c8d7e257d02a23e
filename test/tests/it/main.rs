//! End-to-end tests over real processes. One binary, one module per flow.

mod bench_follower;
mod crash;
mod devnet_marketplace;
mod l1_flows;
mod rollup;
