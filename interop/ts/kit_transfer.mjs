// @solana/kit alone against the sandbox chain, the way a wallet or dApp uses it:
//   node kit_transfer.mjs RPC_URL WS_URL KEYPAIR_FILE RECIPIENT MINT AMOUNT
//
// Reads (getGenesisHash, getLatestBlockhash, getBalance, the mint through getAccountInfo),
// airdrops a little SOL to RECIPIENT with airdropFactory, then sends one transaction (create
// RECIPIENT's token account if missing + SPL TransferChecked of AMOUNT atomic units) with
// sendAndConfirmTransactionFactory, which waits on the PubSub websocket (signatureSubscribe,
// slotSubscribe) as well as getSignatureStatuses/getEpochInfo. Prints one JSON line with what
// each call answered (exit 0), or {error, step} (exit 2).
import { readFile } from "node:fs/promises";

import {
  address,
  airdropFactory,
  appendTransactionMessageInstructions,
  createKeyPairSignerFromBytes,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  devnet,
  getSignatureFromTransaction,
  lamports,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from "@solana/kit";
import {
  fetchMint,
  findAssociatedTokenPda,
  getCreateAssociatedTokenIdempotentInstruction,
  getTransferCheckedInstruction,
  TOKEN_PROGRAM_ADDRESS,
} from "@solana-program/token";

const AIRDROP_LAMPORTS = 10_000_000n;

const [rpcUrl, wsUrl, keypairFile, recipientArg, mintArg, amountArg] = process.argv.slice(2);
if (!amountArg) {
  console.error("usage: node kit_transfer.mjs RPC_URL WS_URL KEYPAIR_FILE RECIPIENT MINT AMOUNT");
  process.exit(64);
}

let step = "start";
const timings = {};

async function timed(name, work) {
  step = name;
  const started = performance.now();
  const result = await work();
  timings[name] = Math.round(performance.now() - started);
  return result;
}

async function tokenAmount(rpc, account) {
  const { value } = await rpc.getTokenAccountBalance(account, { commitment: "confirmed" }).send();
  return value.amount;
}

async function main() {
  const rpc = createSolanaRpc(devnet(rpcUrl));
  const rpcSubscriptions = createSolanaRpcSubscriptions(devnet(wsUrl));
  const payer = await createKeyPairSignerFromBytes(
    Uint8Array.from(JSON.parse(await readFile(keypairFile, "utf8"))),
  );
  const recipient = address(recipientArg);
  const mint = address(mintArg);
  const amount = BigInt(amountArg);

  const genesisHash = await timed("getGenesisHash", () => rpc.getGenesisHash().send());
  const latest = await timed("getLatestBlockhash", () =>
    rpc.getLatestBlockhash({ commitment: "confirmed" }).send(),
  );
  const balanceBefore = await timed("getBalance", () =>
    rpc.getBalance(payer.address, { commitment: "confirmed" }).send(),
  );
  const mintAccount = await timed("fetchMint", () => fetchMint(rpc, mint));

  const airdrop = airdropFactory({ rpc, rpcSubscriptions });
  const airdropSignature = await timed("airdrop", () =>
    airdrop({
      commitment: "confirmed",
      recipientAddress: recipient,
      lamports: lamports(AIRDROP_LAMPORTS),
    }),
  );
  const recipientLamports = await timed("getBalance(recipient)", () =>
    rpc.getBalance(recipient, { commitment: "confirmed" }).send(),
  );

  const [source] = await findAssociatedTokenPda({
    owner: payer.address,
    mint,
    tokenProgram: TOKEN_PROGRAM_ADDRESS,
  });
  const [destination] = await findAssociatedTokenPda({
    owner: recipient,
    mint,
    tokenProgram: TOKEN_PROGRAM_ADDRESS,
  });
  const sourceBefore = await timed("getTokenAccountBalance", () => tokenAmount(rpc, source));

  const { value: blockhash } = await timed("getLatestBlockhash(send)", () =>
    rpc.getLatestBlockhash({ commitment: "confirmed" }).send(),
  );
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (tx) => setTransactionMessageFeePayerSigner(payer, tx),
    (tx) => setTransactionMessageLifetimeUsingBlockhash(blockhash, tx),
    (tx) =>
      appendTransactionMessageInstructions(
        [
          getCreateAssociatedTokenIdempotentInstruction({
            payer,
            ata: destination,
            owner: recipient,
            mint,
            tokenProgram: TOKEN_PROGRAM_ADDRESS,
          }),
          getTransferCheckedInstruction({
            source,
            mint,
            destination,
            authority: payer,
            amount,
            decimals: mintAccount.data.decimals,
          }),
        ],
        tx,
      ),
  );
  const signed = await signTransactionMessageWithSigners(message);
  const signature = getSignatureFromTransaction(signed);
  const sendAndConfirm = sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions });
  await timed("sendAndConfirm", () => sendAndConfirm(signed, { commitment: "confirmed" }));

  const statuses = await timed("getSignatureStatuses", () =>
    rpc.getSignatureStatuses([signature]).send(),
  );
  const landed = await timed("getTransaction", () =>
    rpc
      .getTransaction(signature, {
        commitment: "confirmed",
        encoding: "json",
        maxSupportedTransactionVersion: 0,
      })
      .send(),
  );
  const balanceAfter = await timed("getBalance(after)", () =>
    rpc.getBalance(payer.address, { commitment: "confirmed" }).send(),
  );
  const sourceAfter = await tokenAmount(rpc, source);
  const destinationAfter = await tokenAmount(rpc, destination);

  const status = statuses.value[0];
  return {
    genesisHash,
    blockhash: latest.value.blockhash,
    lastValidBlockHeight: latest.value.lastValidBlockHeight,
    contextSlot: latest.context.slot,
    payer: payer.address,
    lamportsBefore: balanceBefore.value,
    lamportsAfter: balanceAfter.value,
    mintDecimals: mintAccount.data.decimals,
    mintSupply: mintAccount.data.supply,
    airdropSignature,
    recipientLamports: recipientLamports.value,
    signature,
    source,
    destination,
    sourceBefore,
    sourceAfter,
    destinationAfter,
    confirmationStatus: status?.confirmationStatus ?? null,
    statusErr: status?.err ?? null,
    transactionErr: landed?.meta?.err ?? null,
    fee: landed?.meta?.fee ?? null,
    transactionVersion: landed?.version ?? null,
    timingsMs: timings,
  };
}

// BigInt values (lamports, slots, supply) travel as decimal strings.
const toJson = (value) =>
  JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));

main().then(
  (result) => {
    process.stdout.write(`${toJson(result)}\n`);
    process.exit(0); // the PubSub websocket would otherwise keep the process alive
  },
  (error) => {
    const context = error?.context ? toJson(error.context) : undefined;
    process.stdout.write(`${toJson({ error: String(error?.stack ?? error), step, context })}\n`);
    process.exit(2);
  },
);
