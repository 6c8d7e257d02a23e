// Reads a Temporis node's deposits with viem's OP Stack tools, unmodified: from each L1
// `TransactionDeposited` log viem derives the L2 deposit's hash itself (its own source hash and
// 0x7E serializer), then fetches that transaction, its receipt and raw bytes with the OP Stack
// formatters and parser, and a user transaction's receipt with its L1 fee fields; then quotes the
// L1 fee of the user transaction's request with viem's `estimateL1Fee`, `estimateL1Gas`,
// `getL1BaseFee` and `estimateTotalFee`, which call the GasPriceOracle predeploy (0x4200…000F).
// Prints one JSON line; the Rust test (sequencer/tests/it/rollup.rs) checks it against the node.
//
//   node op-stack.mjs <http-url> <logs-json-file> <user-tx-hash>
//
// The logs file: [{ blockHash, logIndex, from, to, opaqueData }] as the portal emitted them.
import { readFileSync } from 'node:fs';
import { createPublicClient, defineChain, http, parseGwei, serializeTransaction } from 'viem';
import {
  chainConfig,
  estimateL1Fee,
  estimateL1Gas,
  estimateTotalFee,
  getL1BaseFee,
  getL2TransactionHash,
  getSourceHash,
  parseTransaction,
} from 'viem/op-stack';

const [url, logsFile, userHash] = process.argv.slice(2);
const chain = defineChain({
  ...chainConfig,
  id: 73571,
  name: 'Temporis dev',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [url] } },
});
const client = createPublicClient({ chain, transport: http(url) });
const str = (v) => (typeof v === 'bigint' ? v.toString() : v ?? null);

const logs = JSON.parse(readFileSync(logsFile, 'utf8'));
const out = { deposits: [] };
let blockNumber;
for (const l of logs) {
  const log = {
    blockHash: l.blockHash,
    logIndex: l.logIndex,
    args: { from: l.from, to: l.to, version: 0n, opaqueData: l.opaqueData },
  };
  const hash = getL2TransactionHash({ log });
  const tx = await client.getTransaction({ hash });
  const receipt = await client.getTransactionReceipt({ hash });
  const raw = await client.request({ method: 'eth_getRawTransactionByHash', params: [hash] });
  const parsed = parseTransaction(raw);
  blockNumber = tx.blockNumber;
  out.deposits.push({
    hash,
    type: tx.type,
    sourceHash: tx.sourceHash,
    mint: str(tx.mint),
    value: str(tx.value),
    from: tx.from,
    status: receipt.status,
    depositNonce: str(receipt.depositNonce),
    depositReceiptVersion: str(receipt.depositReceiptVersion),
    parsed: {
      type: parsed.type,
      sourceHash: parsed.sourceHash,
      from: parsed.from,
      mint: str(parsed.mint),
      value: str(parsed.value),
      gas: str(parsed.gas),
    },
  });
}
const user = await client.getTransactionReceipt({ hash: userHash });
out.user = { status: user.status, l1Fee: str(user.l1Fee), l1GasPrice: str(user.l1GasPrice), l1GasUsed: str(user.l1GasUsed) };
const block = await client.getBlock({ blockNumber, includeTransactions: true });
out.first = { type: block.transactions[0].type, sourceHash: block.transactions[0].sourceHash };
out.l1InfoSourceHash = getSourceHash({ domain: 'l1InfoDeposit', l1BlockHash: logs[0].blockHash, sequenceNumber: 0 });

// The L1 fee quote, as a wallet makes it before sending: the user transaction's request.
const sent = await client.getTransaction({ hash: userHash });
const request = { account: sent.from, to: sent.to, value: sent.value, data: sent.input };
const l1Fee = await estimateL1Fee(client, request);
const total = await estimateTotalFee(client, request);
const prepared = await client.prepareTransactionRequest(request);
const l2Gas = await client.estimateGas(request);
const l2GasPrice = await client.getGasPrice();
out.quote = {
  estimateL1Fee: str(l1Fee),
  estimateL1Gas: str(await estimateL1Gas(client, request)),
  getL1BaseFee: str(await getL1BaseFee(client)),
  estimateTotalFee: str(total),
  l2Gas: str(l2Gas),
  l2GasPrice: str(l2GasPrice),
  preparedType: prepared.type,
  // The unsigned transaction estimateL1Fee sends to getL1Fee: the request with viem's stub
  // gas, fees and nonce (viem/op-stack/actions/estimateL1Fee.ts).
  serialized: serializeTransaction({
    ...request,
    chainId: chain.id,
    type: 'eip1559',
    gas: request.data ? 300000n : 21000n,
    maxFeePerGas: parseGwei('5'),
    maxPriorityFeePerGas: parseGwei('1'),
    nonce: 1,
  }),
};
console.log(JSON.stringify(out));
