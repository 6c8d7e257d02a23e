//! `debug_traceTransaction` and `debug_traceCall`: geth's struct logger (the default),
//! `callTracer`, `prestateTracer` (with `diffMode`) and `noopTracer`, built by
//! revm-inspectors' `TracingInspector` on the AIVM's EVM.

use alloy::rpc::types::trace::geth::{
    GethDebugBuiltInTracerType, GethDebugTracerType, GethDebugTracingOptions, GethTrace, NoopFrame,
};
use revm::InspectEvm;
use revm::context::TxEnv;
use revm::context_interface::result::EVMError;
use revm_inspectors::tracing::{TracingInspector, TracingInspectorConfig};

use crate::evm::{CallDb, CallEnv, build_evm};

/// Why a trace could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    /// A tracer this node does not run (JS tracers, `4byteTracer`, `muxTracer`, …).
    #[error("tracer not supported: {0}")]
    Unsupported(String),
    /// A bad tracer configuration.
    #[error("invalid tracer config: {0}")]
    Config(String),
    /// The transaction is invalid in this environment.
    #[error("{0}")]
    Invalid(String),
}

/// Runs `tx` in `env` under the tracer `opts` asks for. `is_call`: an RPC call (no nonce
/// check), else the replay of an included transaction.
pub fn trace(
    env: &CallEnv<'_>,
    tx: TxEnv,
    opts: &GethDebugTracingOptions,
    is_call: bool,
) -> Result<GethTrace, TraceError> {
    enum Kind {
        Default,
        Call(alloy::rpc::types::trace::geth::CallConfig),
        PreState(alloy::rpc::types::trace::geth::PreStateConfig),
    }
    let kind = match &opts.tracer {
        None => Kind::Default,
        Some(GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::CallTracer)) => Kind::Call(
            opts.tracer_config.clone().into_call_config().map_err(|e| TraceError::Config(e.to_string()))?,
        ),
        Some(GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::PreStateTracer)) => {
            Kind::PreState(
                opts.tracer_config
                    .clone()
                    .into_pre_state_config()
                    .map_err(|e| TraceError::Config(e.to_string()))?,
            )
        }
        Some(GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::NoopTracer)) => {
            return Ok(GethTrace::NoopTracer(NoopFrame::default()));
        }
        Some(other) => return Err(TraceError::Unsupported(format!("{other:?}"))),
    };
    let config = match &kind {
        Kind::Default => TracingInspectorConfig::from_geth_config(&opts.config),
        Kind::Call(c) => TracingInspectorConfig::from_geth_call_config(c),
        Kind::PreState(c) => TracingInspectorConfig::from_geth_prestate_config(c),
    };
    let mut evm = build_evm(env, TracingInspector::new(config), &tx, is_call);
    let out = match evm.inspect_tx(tx) {
        Ok(out) => out,
        Err(EVMError::Transaction(e)) => return Err(TraceError::Invalid(e.to_string())),
        Err(e) => return Err(TraceError::Invalid(e.to_string())),
    };
    let gas_used = out.result.tx_gas_used();
    let builder = evm.inspector.geth_builder();
    Ok(match kind {
        Kind::Default => {
            let output = out.result.output().cloned().unwrap_or_default();
            GethTrace::Default(builder.geth_traces(gas_used, output, opts.config))
        }
        Kind::Call(c) => GethTrace::CallTracer(builder.geth_call_traces(c, gas_used)),
        Kind::PreState(c) => {
            // The pre-state is the environment's state, which the run did not change.
            let db = CallDb::new(env.state, env.overrides, env.block_hash);
            let frame = builder.geth_prestate_traces(&out, &c, &db).map_err(|e| match e {})?;
            GethTrace::PreStateTracer(frame)
        }
    })
}

/// `eth_createAccessList`: the addresses and slots `tx` touches (revm-inspectors'
/// `AccessListInspector`, which leaves out the sender, the recipient and precompiles), and the
/// gas the call uses with that list, as geth and reth report it; `error` if it fails with it.
pub fn create_access_list(
    env: &CallEnv<'_>,
    mut tx: TxEnv,
) -> Result<alloy::rpc::types::AccessListResult, TraceError> {
    use revm::ExecuteEvm;
    use revm_inspectors::access_list::AccessListInspector;

    let mut evm = build_evm(env, AccessListInspector::new(tx.access_list.clone()), &tx, true);
    evm.inspect_tx(tx.clone()).map_err(|e| TraceError::Invalid(e.to_string()))?;
    let access_list = evm.inspector.into_access_list();
    tx.access_list = access_list.clone();
    if tx.tx_type == 0 {
        tx.tx_type = 1;
    }
    let mut evm = build_evm(env, (), &tx, true);
    let out = evm.transact(tx).map_err(|e| TraceError::Invalid(e.to_string()))?;
    let error = match &out.result {
        revm::context_interface::result::ExecutionResult::Success { .. } => None,
        revm::context_interface::result::ExecutionResult::Revert { .. } => {
            Some("execution reverted".to_owned())
        }
        revm::context_interface::result::ExecutionResult::Halt { reason, .. } => Some(format!("{reason:?}")),
    };
    Ok(alloy::rpc::types::AccessListResult {
        access_list,
        gas_used: alloy_primitives::U256::from(out.result.tx_gas_used()),
        error,
    })
}
