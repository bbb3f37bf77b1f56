// The dashboard page: reads only its own server (app.py). No build step, no framework.
"use strict";

const $ = (selector) => document.querySelector(selector);
const payments = new Map(); // correlation id -> {row, steps, ...}
let names = {}; // address -> wallet name

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const short = (text) => (text && text.length > 14 ? `${text.slice(0, 6)}…${text.slice(-6)}` : text || "");
const dollars = (atomic) => (atomic === undefined || atomic === null ? "" : `$${(Number(atomic) / 1e6).toFixed(6).replace(/0{1,4}$/, "")}`);
const clock = (seconds) => new Date(seconds * 1000).toLocaleTimeString();

function accountLink(address) {
  if (!address) return "";
  const label = names[address] ? `${names[address]} (${short(address)})` : short(address);
  return el("a", { href: `#/account/${address}`, title: address, class: "mono" }, label);
}

function txLink(signature) {
  if (!signature) return "";
  return el("a", { href: `#/tx/${signature}`, title: signature, class: "mono", "data-testid": "tx-link" }, short(signature));
}

async function getJson(url, options) {
  const answer = await fetch(url, options);
  const body = await answer.json().catch(() => ({ error: `HTTP ${answer.status}` }));
  if (!answer.ok) throw new Error(body.error || `HTTP ${answer.status}`);
  return body;
}

// ------------------------------------------------------------------ overview

async function refreshOverview() {
  try {
    const view = await getJson("/api/overview");
    const list = $("#components");
    list.replaceChildren(...view.components.map((c) =>
      el("li", { class: `pill ${c.healthy ? "ok" : "bad"}`, title: `${c.url} (${c.ms} ms)`, "data-component": c.name },
        `${c.name} ${c.healthy ? "healthy" : "down"}`)));
    names = Object.fromEntries(view.wallets.map((w) => [w.address, w.name]));
    $("#wallets tbody").replaceChildren(...view.wallets.map((w) =>
      el("tr", { "data-wallet": w.name },
        el("td", {}, el("a", { href: `#/account/${w.address}` }, w.name)),
        el("td", { class: "mono" }, w.address),
        el("td", { class: "num" }, w.sol === null ? "-" : w.sol.toFixed(4)),
        el("td", { class: "num", "data-testid": "usdc" }, w.usdc === null ? "no account" : `$${w.usdc.toFixed(2)}`))));
  } catch (error) {
    $("#components").replaceChildren(el("li", { class: "pill bad" }, `dashboard: ${error.message}`));
  }
}

async function refreshActivity() {
  try {
    const activity = await getJson("/api/activity");
    $("#settlements tbody").replaceChildren(...activity.settlements.slice(-20).reverse().map((s) =>
      el("tr", {},
        el("td", {}, s.time ? clock(s.time) : ""),
        el("td", {}, accountLink(s.payer)),
        el("td", { class: "num" }, dollars(s.amount)),
        el("td", {}, s.reason || s.status || (s.success ? "settled" : "")),
        el("td", {}, txLink(s.transaction || s.signature)))));
    $("#rejections tbody").replaceChildren(...activity.rejections.slice(-20).reverse().map((r) =>
      el("tr", { "data-testid": "rejection" },
        el("td", {}, r.time ? clock(r.time) : ""),
        el("td", {}, r.operation || ""),
        el("td", { class: "mono" }, r.reason || ""),
        el("td", {}, r.message || ""))));
  } catch (error) {
    $("#settlements tbody").replaceChildren(el("tr", {}, el("td", { colSpan: 5, class: "error" }, error.message)));
  }
}

// ------------------------------------------------------------------ the live payments

const STEP_NAMES = {
  payment_required: "402", payment_received: "paid request", verify: "verify",
  handler: "handler", settle: "settle", refused: "refused",
};

function paymentFor(event) {
  const key = event.correlation || `event-${event.source}-${event.id}`;
  let payment = payments.get(key);
  if (!payment) {
    const cells = {
      time: el("td", {}, clock(event.time)), route: el("td", { class: "mono" }), amount: el("td", { class: "num" }),
      payer: el("td"), steps: el("td"), outcome: el("td", { "data-testid": "outcome" }), tx: el("td"),
    };
    const row = el("tr", { "data-testid": "payment", "data-correlation": key }, ...Object.values(cells));
    $("#payments tbody").prepend(row);
    $("#no-payments").hidden = true;
    payment = { cells, row };
    payments.set(key, payment);
  }
  return payment;
}

function onEvent(event) {
  const payment = paymentFor(event);
  const { cells } = payment;
  if (event.route && !cells.route.textContent) cells.route.textContent = event.route;
  if (event.amount && !cells.amount.textContent) cells.amount.textContent = dollars(event.amount);
  if (event.payer && !cells.payer.textContent) cells.payer.replaceChildren(accountLink(event.payer));
  const failed = event.kind === "refused" || event.ok === false;
  const label = `${event.source === "facilitator" ? "facilitator " : ""}${STEP_NAMES[event.kind] || event.kind}`;
  const step = el("span", { class: `step ${failed ? "failed" : event.kind === "settle" ? "done" : ""}`,
    title: [event.reason, event.message, event.ms !== undefined ? `${event.ms} ms` : ""].filter(Boolean).join(" · ") }, label);
  cells.steps.append(step);
  if (event.kind === "refused" || (failed && !cells.outcome.textContent)) {
    cells.outcome.className = "outcome-refused";
    cells.outcome.replaceChildren(el("span", { "data-testid": "reason" }, event.reason || "refused"),
      event.message ? el("div", { class: "quiet" }, event.message) : null);
  } else if (event.kind === "settle" && event.ok !== false) {
    cells.outcome.className = "outcome-settled";
    cells.outcome.textContent = "settled";
  } else if (event.kind === "payment_required" && !cells.outcome.textContent) {
    cells.outcome.textContent = "402 issued";
  }
  if (event.transaction && !cells.tx.textContent) cells.tx.replaceChildren(txLink(event.transaction));
  if (event.kind === "settle" || event.kind === "refused") {
    scheduleRefresh();
  }
}

let refreshTimer = null;
function scheduleRefresh() {
  // Many events close together (a load test): one refresh for the lot.
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refreshOverview(); refreshActivity(); }, 300);
}

function connect() {
  const stream = new EventSource("/api/events");
  stream.onopen = () => { $("#stream").textContent = "live"; $("#stream").className = "pill ok"; };
  stream.onerror = () => { $("#stream").textContent = "reconnecting…"; $("#stream").className = "pill bad"; };
  stream.onmessage = (message) => onEvent(JSON.parse(message.data));
  for (const kind of Object.keys(STEP_NAMES)) {
    stream.addEventListener(kind, (message) => onEvent(JSON.parse(message.data)));
  }
}

// ------------------------------------------------------------------ faults

const FACILITATOR_FAULTS = {
  "verify-invalid": { endpoint: "verify", kind: "invalid", rate: 1 },
  "settle-pending": { endpoint: "settle", kind: "pending", rate: 1 },
  "settle-500": { endpoint: "settle", kind: "error500", rate: 1 },
  "verify-latency": { endpoint: "verify", kind: "latency", rate: 1, ms: 500 },
};
const CHAIN_FAULTS = {
  "chain-drop": { dropRate: 0.1 },
  "chain-late": { lateConfirmMs: 2000 },
  "chain-latency": { latencyMs: 200 },
  "chain-clear": { dropRate: 0, lateConfirmMs: 0, latencyMs: 0, errorRate: 0 },
};

async function refreshFaults() {
  try {
    const faults = await getJson("/api/faults");
    $("#facilitator-faults").textContent = faults.facilitator.faults.length
      ? faults.facilitator.faults.map((f) => `${f.endpoint} ${f.kind} rate ${f.rate}${f.ms ? ` ${f.ms} ms` : ""}`).join("\n")
      : "none";
    const chain = Object.entries(faults.chain).filter(([, value]) => value);
    $("#chain-faults").textContent = chain.length ? chain.map(([k, v]) => `${k} ${v}`).join("\n") : "none";
    return faults;
  } catch (error) {
    $("#fault-error").textContent = error.message;
    return null;
  }
}

async function post(url, body) {
  return getJson(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

async function onFaultButton(name) {
  $("#fault-error").textContent = "";
  try {
    if (name in CHAIN_FAULTS) {
      await post("/api/faults/chain", CHAIN_FAULTS[name]);
    } else if (name === "facilitator-clear") {
      await post("/api/faults/facilitator", { faults: [] });
    } else {
      const now = await getJson("/api/faults");
      await post("/api/faults/facilitator", { faults: [...now.facilitator.faults, FACILITATOR_FAULTS[name]] });
    }
  } catch (error) {
    $("#fault-error").textContent = error.message;
  }
  await refreshFaults();
}

// ------------------------------------------------------------------ detail views (#/tx/..., #/account/...)

function field(list, name, value) {
  list.append(el("dt", {}, name), el("dd", {}, value));
}

function renderInstruction(ix) {
  const list = el("dl");
  if (ix.kind === "SetComputeUnitLimit") field(list, "units", ix.units.toLocaleString());
  if (ix.kind === "SetComputeUnitPrice") field(list, "price", `${ix.microLamports.toLocaleString()} microlamports per unit`);
  if (ix.kind === "TransferChecked") {
    field(list, "amount", `${ix.uiAmount} (${ix.amount} atomic, ${ix.decimals} decimals)`);
    field(list, "from", accountLink(ix.source));
    field(list, "to", accountLink(ix.destination));
    field(list, "owner", accountLink(ix.authority));
    field(list, "mint", el("span", { class: "mono" }, ix.mint));
  }
  if (ix.kind === "Create" || ix.kind === "CreateIdempotent") {
    field(list, "funded by", accountLink(ix.funder));
    field(list, "account", accountLink(ix.account));
    field(list, "owner", accountLink(ix.owner));
  }
  if (ix.kind === "Memo") field(list, "memo", el("code", { "data-testid": "memo" }, ix.memo));
  if (ix.kind === "unknown") field(list, "accounts", el("span", {}, ...ix.accounts.map((a) => el("div", {}, accountLink(a)))));
  return el("div", { class: "instruction", "data-testid": "instruction", "data-kind": ix.kind },
    el("strong", {}, `#${ix.index} ${ix.programName}: ${ix.kind}`), list);
}

async function showTransaction(signature) {
  const view = await getJson(`/api/tx/${encodeURIComponent(signature)}`);
  Object.assign(names, view.names || {});
  const facts = el("dl", { class: "instruction" });
  field(facts, "slot", String(view.slot));
  field(facts, "fee payer", accountLink(view.feePayer));
  field(facts, "signers", el("span", {}, ...view.signers.map((s) => el("div", {}, accountLink(s)))));
  field(facts, "fee", `${view.fee} lamports`);
  field(facts, "status", view.err ? `failed: ${JSON.stringify(view.err)}` : "succeeded");
  field(facts, "compute units", String(view.computeUnitsConsumed ?? "-"));
  return [el("h2", {}, "Transaction ", el("code", { "data-testid": "signature" }, signature)), facts,
    el("h3", {}, "Instructions"), ...view.instructions.map(renderInstruction),
    el("h3", {}, "Logs"), el("pre", {}, view.logMessages.join("\n"))];
}

async function showAccount(address) {
  const view = await getJson(`/api/account/${encodeURIComponent(address)}`);
  const facts = el("dl", { class: "instruction" });
  field(facts, "SOL", view.sol === null ? "-" : view.sol.toFixed(4));
  field(facts, "USDC", view.usdc === null ? "no token account" : `$${view.usdc.toFixed(2)}`);
  field(facts, "USDC account", el("span", { class: "mono" }, view.tokenAccount));
  const rows = view.transactions.map((t) => el("tr", {},
    el("td", {}, String(t.slot)), el("td", {}, txLink(t.signature)),
    el("td", {}, t.err ? "failed" : "ok"), el("td", { class: "mono" }, t.memo || "")));
  return [el("h2", {}, `Account ${view.name || ""} `, el("code", {}, address)), facts,
    el("h3", {}, "Recent transactions"),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "slot"), el("th", {}, "signature"), el("th", {}, "status"), el("th", {}, "memo"))),
      el("tbody", {}, ...rows))];
}

async function route() {
  const detail = $("#detail");
  const [, kind, id] = location.hash.split("/");
  if (!id || !["tx", "account"].includes(kind)) {
    detail.hidden = true;
    return;
  }
  detail.hidden = false;
  detail.replaceChildren(el("p", { class: "quiet" }, "loading…"));
  try {
    const parts = kind === "tx" ? await showTransaction(id) : await showAccount(id);
    detail.replaceChildren(el("a", { href: "#/" }, "× close"), ...parts);
  } catch (error) {
    detail.replaceChildren(el("a", { href: "#/" }, "× close"), el("p", { class: "error" }, error.message));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("button[data-fault]")) {
    button.addEventListener("click", () => onFaultButton(button.dataset.fault));
  }
  window.addEventListener("hashchange", route);
  refreshOverview();
  refreshActivity();
  refreshFaults();
  connect();
  route();
  setInterval(refreshOverview, 5000);
});
