// Drives a Temporis node with viem, unmodified, the way a dapp does: chain id, balances, a
// transfer, a contract deployment, a write, a read, events through a WebSocket subscription
// (eth_subscribe logs), a polled filter (eth_newFilter / eth_getFilterChanges) and eth_getLogs,
// a revert decoded from its custom error. Prints one JSON line of what it saw; the
// Rust test (sequencer/tests/it/viem.rs) checks it against the node and the library.
//
//   node viem.mjs <http-url> <ws-url> <private-key> <creation-bytecode-hex> <abi-json-file>
import { readFileSync } from 'node:fs';
import {
  createPublicClient, createWalletClient, defineChain, http, webSocket, parseEther,
  BaseError, ContractFunctionRevertedError,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const [httpUrl, wsUrl, key, bytecode, abiFile] = process.argv.slice(2);
const abi = JSON.parse(readFileSync(abiFile, 'utf8'));
const temporis = defineChain({
  id: 73571,
  name: 'Temporis dev',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [httpUrl], webSocket: [wsUrl] } },
});
const account = privateKeyToAccount(key);
const pub = createPublicClient({ chain: temporis, transport: http(httpUrl) });
const ws = createPublicClient({ chain: temporis, transport: webSocket(wsUrl) });
const wallet = createWalletClient({ account, chain: temporis, transport: http(httpUrl) });

const out = {};
out.chainId = await pub.getChainId();
const recipient = '0x000000000000000000000000000000000000bEEF';
const before = await pub.getBalance({ address: recipient });
const transfer = await wallet.sendTransaction({ to: recipient, value: parseEther('1.5') });
const transferReceipt = await pub.waitForTransactionReceipt({ hash: transfer, pollingInterval: 50 });
out.transferStatus = transferReceipt.status;
out.recipientGained = ((await pub.getBalance({ address: recipient })) - before).toString();

const deploy = await wallet.deployContract({ abi, bytecode: `0x${bytecode.replace(/^0x/, '')}`, args: [7n] });
const deployReceipt = await pub.waitForTransactionReceipt({ hash: deploy, pollingInterval: 50 });
const counter = deployReceipt.contractAddress;
out.deployStatus = deployReceipt.status;
out.start = (await pub.readContract({ address: counter, abi, functionName: 'number' })).toString();

// Watch before the write, so the event must arrive through the subscription viem opens on the
// WebSocket and through the filter it installs and polls over HTTP.
const watch = (client, options, what) => new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no Incremented event through ${what}`)), 20000);
  const unwatch = client.watchContractEvent({
    address: counter, abi, eventName: 'Incremented', ...options,
    onLogs: (logs) => { clearTimeout(timer); unwatch(); resolve(logs[0].args.newValue.toString()); },
    onError: reject,
  });
});
const subscribed = watch(ws, {}, 'the WebSocket subscription');
const polled = watch(pub, { poll: true, pollingInterval: 100 }, 'the polled filter');
await new Promise((r) => setTimeout(r, 300));
const { request } = await pub.simulateContract({ account, address: counter, abi, functionName: 'increment' });
const write = await wallet.writeContract(request);
const writeReceipt = await pub.waitForTransactionReceipt({ hash: write, pollingInterval: 50 });
out.writeStatus = writeReceipt.status;
out.after = (await pub.readContract({ address: counter, abi, functionName: 'number' })).toString();
out.subscribedValue = await subscribed;
out.watchedValue = await polled;
const logs = await pub.getContractEvents({
  address: counter, abi, eventName: 'Incremented', fromBlock: deployReceipt.blockNumber,
});
out.logValues = logs.map((l) => l.args.newValue.toString());
out.logBy = logs.map((l) => l.args.by);

// A custom-error revert, decoded by viem from the node's revert data.
try {
  await pub.simulateContract({ account, address: counter, abi, functionName: 'setNumber', args: [5000n] });
  out.revert = 'none';
} catch (e) {
  const revert = e instanceof BaseError ? e.walk((x) => x instanceof ContractFunctionRevertedError) : null;
  out.revert = revert ? `${revert.data?.errorName}(${revert.data?.args?.join(',')})` : `undecoded: ${e.shortMessage ?? e}`;
}
out.address = account.address;
out.counter = counter;
console.log(JSON.stringify(out));
await ws.transport.getRpcClient().then((c) => c.close()).catch(() => {});
process.exit(0);
