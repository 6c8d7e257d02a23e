#!/usr/bin/env node
// Copies the ABI and bytecode of the contracts that Rust binds from forge's output
// (contracts/out, produced by `forge build`) into contracts/bindings/artifacts/<Name>.json, the
// files that `temporis-contracts` feeds to alloy's `sol!` at compile time.
//
//   node scripts/gen-bindings.mjs           write the artifacts
//   node scripts/gen-bindings.mjs --check   exit 1 if the committed artifacts differ from forge's
//
// The artifacts are committed so that `cargo build` needs neither node nor solc; `make test`
// runs the check so that they cannot drift from the Solidity sources.
import { readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "contracts", "out");
const dest = join(root, "contracts", "bindings", "artifacts");

// Source file (relative to contracts/src) and contract name of every bound contract.
export const BOUND = [
  ["marketplace/ModelNFT.sol", "ModelNFT"],
  ["marketplace/ModelMarketplace.sol", "ModelMarketplace"],
  ["marketplace/InferenceMarket.sol", "InferenceMarket"],
  ["L1/BatchInbox.sol", "BatchInbox"],
  ["L1/OutputOracle.sol", "OutputOracle"],
  ["L1/Portal.sol", "Portal"],
  ["L2/L1Block.sol", "L1Block"],
  ["L2/GasPriceOracle.sol", "GasPriceOracle"],
  ["L2/L2ToL1MessagePasser.sol", "L2ToL1MessagePasser"],
  ["L2/ModelRegistry.sol", "ModelRegistry"],
  ["examples/DigitClassifier.sol", "DigitClassifier"],
];

const check = process.argv.includes("--check");
let stale = [];
mkdirSync(dest, { recursive: true });
for (const [file, name] of BOUND) {
  const base = file.split("/").pop();
  const src = join(out, base, `${name}.json`);
  if (!existsSync(src)) {
    console.error(`gen-bindings: ${src} missing: run \`forge build\` in contracts/ first`);
    process.exit(2);
  }
  const artifact = JSON.parse(readFileSync(src, "utf8"));
  const trimmed = {
    abi: artifact.abi,
    bytecode: { object: artifact.bytecode.object },
    deployedBytecode: { object: artifact.deployedBytecode.object },
  };
  const text = JSON.stringify(trimmed, null, 1) + "\n";
  const target = join(dest, `${name}.json`);
  if (check) {
    const current = existsSync(target) ? readFileSync(target, "utf8") : "";
    if (current !== text) stale.push(name);
  } else {
    writeFileSync(target, text);
  }
}
if (check && stale.length > 0) {
  console.error(
    `gen-bindings: committed artifacts are stale for ${stale.join(", ")}; run \`make bindings\` and commit`,
  );
  process.exit(1);
}
console.error(check ? "gen-bindings: artifacts up to date" : `gen-bindings: wrote ${BOUND.length} artifacts`);
