// The onboarding page: check the registration link, link the salon's WhatsApp (QR or pairing code), follow the
// session live from Firestore, activate once on `connected`, then say what happens next.

import { createApi } from "./api.js";
import { invalid, readToken, show } from "./page-shell.js";
import { normalizePhone } from "./phone.js";
import { fromApi, watchSession } from "./status-feed.js";
import { INVALID_LINK, PHONE_HINTS, RELINK_QUESTION, countdown, explain } from "./texts.js";

const $ = (id) => document.getElementById(id);
const app = $("app");

const RETRYABLE = new Set(["expired", "failed", "logged_out", "client_outdated"]);
const SETUP_WAIT_MS = 60000;

const page = {
  api: null,
  sessionId: null,
  salonTitle: "",
  tab: null,
  last: null, // newest status shown
  setup: null,
  phone: null,
  confirmed8: null, // a number starting with 8 the owner confirmed
  confirmRelink: false, // the owner agreed to replace the active salon's WhatsApp link
  activation: { started: false, running: false, done: false },
  codeTimer: null,
};

// --- linking ---------------------------------------------------------------------------------------------

function selectTab(tab) {
  page.tab = tab;
  for (const name of ["qr", "pairing"]) {
    $(`tab-${name}`).setAttribute("aria-selected", String(name === tab));
    $(`panel-${name}`).hidden = name !== tab;
  }
}

async function ask(call) {
  setStatusText("");
  $("relink-confirm").hidden = true;
  try {
    applyStatus(fromApi(await call()));
  } catch (err) {
    if (INVALID_LINK[err.code]) return invalid(err.code);
    if (err.code === "relink_needs_confirmation") return askToRelink(call);
    $("qr-wait").hidden = true;
    setStatusText(explain(err), true);
  }
}

// The salon is active and its WhatsApp link may still come back: replacing it takes the owner's word.
function askToRelink(call) {
  $("qr-wait").hidden = true;
  $("retry-link").hidden = true; // one question on screen: the confirmation
  setStatusText("");
  $("relink-text").textContent = RELINK_QUESTION;
  $("relink-confirm").hidden = false;
  $("relink-yes").onclick = () => {
    page.confirmRelink = true;
    ask(call);
  };
}

function requestQr() {
  $("qr-img").hidden = true;
  $("qr-wait").hidden = false;
  return ask(() => page.api.requestQr(page.confirmRelink));
}

function openTab(tab) {
  if (page.tab === tab) return;
  selectTab(tab);
  const state = page.last && page.last.state;
  if (tab === "qr" && state !== "qr") requestQr();
  if (tab === "pairing" && state !== "pairing_code") showPhoneForm();
}

function showPhoneForm() {
  clearInterval(page.codeTimer);
  $("code-box").hidden = true;
  $("phone-form").hidden = false;
  $("phone-submit").disabled = false;
}

async function submitPhone(event) {
  event.preventDefault();
  const checked = normalizePhone($("phone").value);
  const hint = $("phone-hint");
  const russian8 = !checked.ok && checked.hint === "russian_8";
  const digits = checked.ok ? checked.digits : russian8 ? $("phone").value.replace(/\D/g, "") : null;
  if (!checked.ok && !(russian8 && page.confirmed8 === digits)) {
    if (russian8) page.confirmed8 = digits;
    hint.textContent = PHONE_HINTS[checked.hint];
    hint.hidden = false;
    $("phone").setAttribute("aria-invalid", "true");
    return;
  }
  hint.hidden = true;
  $("phone").removeAttribute("aria-invalid");
  page.phone = digits;
  $("phone-submit").disabled = true;
  try {
    applyStatus(fromApi(await page.api.requestPairingCode(digits, page.confirmRelink)));
  } catch (err) {
    if (INVALID_LINK[err.code]) return invalid(err.code);
    hint.textContent = explain(err);
    hint.hidden = false;
  } finally {
    $("phone-submit").disabled = false;
  }
}

function renderCode(status) {
  $("phone-form").hidden = true;
  $("code-box").hidden = false;
  $("pairing-code").textContent = status.code || "";
  clearInterval(page.codeTimer);
  const tick = () => {
    const left = status.expiresAt ? status.expiresAt - Date.now() : 0;
    $("code-timer").textContent = left > 0 ? `Код действует ещё ${countdown(left)}` : "Время действия кода истекло.";
    $("code-new").hidden = left > 30000;
  };
  tick();
  page.codeTimer = setInterval(tick, 1000);
}

function setStatusText(text, isError = false) {
  const el = $("status-text");
  el.textContent = text || "";
  el.classList.toggle("error", Boolean(isError));
}

// --- status --------------------------------------------------------------------------------------------

function applyStatus(status) {
  if (status.setup) {
    page.setup = status.setup;
    if (page.activation.running === false && page.activation.started) renderSetup();
  }
  if (!status.state) return;
  const last = page.last;
  if (last && last.updatedAt && status.updatedAt && status.updatedAt < last.updatedAt) return; // an older answer
  page.last = status;
  app.dataset.state = status.state;
  app.dataset.updated = String(status.updatedAt || ""); // which status is on screen (tests and the benchmark)
  const state = status.state;
  if (state === "connected") return beginActivation();
  if (page.activation.started) return; // activation owns the screen now
  show("link");
  const retry = $("retry-link");
  const asking = !$("relink-confirm").hidden; // the relink question stands alone on screen
  retry.hidden = asking || !RETRYABLE.has(state);
  retry.textContent = state === "expired" ? (page.tab === "pairing" ? "Получить новый код" : "Показать новый QR-код") : "Подключить снова";
  $("status").dataset.busy = String(state === "starting" || state === "reconnecting");
  setStatusText(state === "qr" || state === "pairing_code" || asking ? "" : status.message, RETRYABLE.has(state));
  if (state === "qr") {
    selectTab("qr");
    $("qr-img").src = status.qr;
    $("qr-img").hidden = false;
    $("qr-wait").hidden = true;
  } else if (state === "pairing_code") {
    selectTab("pairing");
    renderCode(status);
  } else if (state !== "starting") {
    $("qr-img").hidden = true;
    $("qr-wait").hidden = true;
    if (page.tab === "pairing" && state === "expired") {
      clearInterval(page.codeTimer);
      $("code-box").hidden = true;
    }
  }
}

function retryLink() {
  if (page.tab === "pairing") {
    if (page.phone) return ask(() => page.api.requestPairingCode(page.phone, page.confirmRelink));
    return showPhoneForm();
  }
  return requestQr();
}

// --- activation ----------------------------------------------------------------------------------------

function step(id, state) {
  $(id).dataset.step = state;
}

function beginActivation() {
  if (page.activation.started) return;
  page.activation.started = true;
  clearInterval(page.codeTimer);
  show("activation");
  runActivation();
}

async function runActivation() {
  if (page.activation.running || page.activation.done) return;
  page.activation.running = true;
  $("activation-error").hidden = true;
  step("step-activate", "active");
  step("step-load", "todo");
  try {
    await activateOnce();
    page.activation.done = true;
    step("step-activate", "done");
    step("step-load", "active");
    setTimeout(() => finish(null), SETUP_WAIT_MS); // setup may take a while: the bot is active anyway
    renderSetup();
  } catch (err) {
    step("step-activate", "failed");
    $("activation-error-text").textContent = explain(err);
    $("activation-error").hidden = false;
    $("activation-retry").focus();
  } finally {
    page.activation.running = false;
  }
}

// Another page of this salon (a second link, a colleague's tab) may be activating right now: wait for it.
const IN_PROGRESS_RETRY_MS = 1500;
const IN_PROGRESS_TRIES = 40;

async function activateOnce() {
  for (let tries = 1; ; tries++) {
    try {
      return await page.api.activate();
    } catch (err) {
      if (err.code !== "activation_in_progress" || tries >= IN_PROGRESS_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, IN_PROGRESS_RETRY_MS));
    }
  }
}

function renderSetup() {
  if (!page.activation.done || !page.setup) return;
  if (page.setup.state === "done") finish(null);
  // Some data loads later (the message says which); the bot already answers with what is there.
  if (page.setup.state === "partial") finish(page.setup.message || "Часть данных салона загрузится позже.");
}

function finish(later) {
  if (app.dataset.screen === "done") return;
  step("step-load", later ? "partial" : "done");
  const note = $("done-note");
  note.hidden = !later && page.setup && page.setup.state === "done";
  note.textContent = later
    ? `${later} Бот уже отвечает клиентам.`
    : "Данные салона ещё загружаются — это займёт несколько минут.";
  show("done");
}

// --- start ---------------------------------------------------------------------------------------------

function prefersPairing() {
  return /Android.+Mobile|iPhone|iPod/.test(navigator.userAgent) || window.matchMedia("(max-width: 640px)").matches;
}

async function start() {
  const token = readToken();
  if (!token) return invalid("missing_token");
  page.api = createApi(token);
  let info;
  try {
    info = await page.api.session();
  } catch (err) {
    if (INVALID_LINK[err.code] || err.status === 401 || err.status === 410) return invalid(err.code);
    $("loading-text").textContent = explain(err);
    app.dataset.screen = "error";
    return;
  }
  page.sessionId = info.session.session_id;
  page.salonTitle = info.salon.title;
  $("salon-name").textContent = info.salon.title;
  document.title = `AI Admin — ${info.salon.title}`;
  if (info.integration_status === "active" && info.session.status === "connected") {
    page.activation = { started: true, running: false, done: true };
    page.setup = { state: "done" };
    $("done-title").textContent = "AI Admin уже подключён";
    show("done");
    return;
  }
  watchSession({
    viewId: info.view_id,
    sessionId: page.sessionId,
    api: page.api,
    onStatus: applyStatus,
    onFallback: () => {
      app.dataset.feed = "poll";
      $("fallback-note").hidden = false;
    },
    onRefused: (err) => {
      if (!page.activation.started) invalid(err.code);
    },
  });
  app.dataset.feed = "listener";
  const current = fromApi(info.session);
  const resuming = current.state === "qr" || current.state === "pairing_code" || current.state === "connected";
  if (resuming) {
    applyStatus(current);
    return;
  }
  show("link");
  selectTab(prefersPairing() ? "pairing" : "qr");
  if (page.tab === "qr") requestQr();
  else showPhoneForm();
}

$("tab-qr").addEventListener("click", () => openTab("qr"));
$("tab-pairing").addEventListener("click", () => openTab("pairing"));
$("phone-form").addEventListener("submit", submitPhone);
$("code-new").addEventListener("click", () => ask(() => page.api.requestPairingCode(page.phone, page.confirmRelink)));
$("code-change-phone").addEventListener("click", showPhoneForm);
$("retry-link").addEventListener("click", retryLink);
$("activation-retry").addEventListener("click", runActivation);
start();
