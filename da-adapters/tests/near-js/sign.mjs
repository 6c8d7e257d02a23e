// Builds and signs NEAR DA `submit` transactions with near-api-js, the independent implementation
// the Rust encoder is checked against (tests/it/near). Reads a JSON array of cases on stdin:
//   { secretKey: "ed25519:…", signerId, receiverId, nonce: "<u64>", blockHash: "<base58>",
//     methodName, gas: "<u64>", deposit: "<u128>", namespace: null | { version, id },
//     data: "<base64>" }
// and prints a JSON array, one object per case:
//   { args, transaction, signedTransaction (base64 borsh), hash (base58), publicKey }.
// The SubmitRequest argument is encoded with the `borsh` package from a schema written from
// NEAR DA's Rust definition, so the arguments are checked independently too.
import { readFileSync } from 'node:fs';
import { serialize } from 'borsh';
import { KeyPair, KeyPairSigner, actions, baseDecode, baseEncode, createTransaction, encodeTransaction } from 'near-api-js';

const submitRequestSchema = {
  struct: {
    namespace: { option: { struct: { version: 'u8', id: 'u32' } } },
    data: { array: { type: 'u8' } },
  },
};

const b64 = (bytes) => Buffer.from(bytes).toString('base64');

const cases = JSON.parse(readFileSync(0, 'utf8'));
const out = [];
for (const c of cases) {
  const keyPair = KeyPair.fromString(c.secretKey);
  const signer = new KeyPairSigner(keyPair);
  const args = serialize(submitRequestSchema, {
    namespace: c.namespace,
    data: new Uint8Array(Buffer.from(c.data, 'base64')),
  });
  const tx = createTransaction(
    c.signerId,
    keyPair.getPublicKey(),
    c.receiverId,
    BigInt(c.nonce),
    [actions.functionCall(c.methodName, args, BigInt(c.gas), BigInt(c.deposit))],
    baseDecode(c.blockHash),
  );
  const { txHash, signedTransaction } = await signer.signTransaction(tx);
  out.push({
    args: b64(args),
    transaction: b64(encodeTransaction(tx)),
    signedTransaction: b64(signedTransaction.encode()),
    hash: baseEncode(txHash),
    publicKey: keyPair.getPublicKey().toString(),
  });
}
process.stdout.write(JSON.stringify(out));
