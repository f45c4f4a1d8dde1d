// The owner page, opened from YCLIENTS for a salon that works already: WhatsApp and sync status, the inbox
// (waiting for a person first) with takeover and «Вернуть боту», the week's bookings, notices and settings.
// Everything shown comes live from two Firestore documents the page may read: its owner view and its
// WhatsApp status view; the API is only for actions and a conversation's transcript.

import { createApi } from "./api.js";
import { invalid as invalidLink, readToken, show } from "./page-shell.js";
import { toMillis, watchDocument, watchSession } from "./status-feed.js";
import { explain } from "./texts.js";

const $ = (id) => document.getElementById(id);
const app = $("app");

const page = { api: null, token: null, view: null, open: null, formFilled: false, replyId: null, started: false };

const invalid = (code) => invalidLink(code, (text) => text.replace("«Подключить»", "«Открыть»"));

const REASONS = {
  handoff: "просит администратора",
  unanswered: "вопрос без ответа",
  late: "сообщение пришло с опозданием",
};
const KINDS = {
  logged_out: "WhatsApp отключён",
  whatsapp_down: "WhatsApp недоступен",
  whatsapp_back: "WhatsApp снова работает",
  sync_failing: "Синхронизация",
  handoff: "Просят администратора",
  unanswered: "Вопрос без ответа",
  refused: "Сообщение не доставлено",
  summary: "Сводка",
  review: "Низкая оценка визита",
};
const ACTIONS = { booked: "Записал", rescheduled: "Перенёс", cancelled: "Отменил" };
const WA_STATES = {
  connected: "подключён",
  reconnecting: "переподключается",
  temporarily_banned: "временно ограничен WhatsApp",
  logged_out: "отключён",
  failed: "не работает",
  expired: "не подключён",
  client_outdated: "не работает",
  paused: "приостановлен",
};
const RELINK = new Set(["logged_out", "failed", "expired", "client_outdated"]);

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  if (cls) node.className = cls;
  return node;
}

function when(value) {
  const ms = toMillis(value);
  if (!ms) return "";
  return new Date(ms).toLocaleString("ru-RU", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

function visitTime(iso) {
  if (!iso) return "";
  const [date, time] = iso.split("T");
  const [, m, d] = date.split("-");
  return `${d}.${m} в ${(time || "").slice(0, 5)}`;
}

// --- status ----------------------------------------------------------------------------------------------

function showWhatsApp(status) {
  const state = status.state || "";
  $("wa-state").textContent = WA_STATES[state] || state || "не подключён";
  $("wa-state").dataset.state = state;
  $("wa-message").textContent = status.message || "";
  $("relink").hidden = !RELINK.has(state);
}

function renderStatus(view) {
  $("bot-state").textContent = view.bot_enabled ? "отвечает клиентам" : "выключен — отвечаете вы";
  const list = $("sync-list");
  list.replaceChildren(
    ...(view.sync || []).map((m) => {
      const ok = m.state === "ok" || m.state === "running";
      const text = ok
        ? `${m.title}: обновлено ${when(m.last_success_at) || "—"}`
        : `${m.title}: ошибка синхронизации${m.last_success_at ? `, последнее обновление ${when(m.last_success_at)}` : ""}`;
      return el("li", text, ok ? "" : "error");
    }),
  );
}

// --- inbox -----------------------------------------------------------------------------------------------

function renderInbox(view) {
  const items = view.inbox || [];
  $("inbox-empty").hidden = items.length > 0;
  $("inbox").replaceChildren(
    ...items.map((c) => {
      const li = el("li", null, c.waiting_since ? "waiting" : "");
      const button = el("button", null, "conv");
      button.type = "button";
      button.dataset.phone = c.phone;
      const who = el("span", customer(c, c.phone), "who");
      const tag = c.waiting_since
        ? el("span", `Ждёт вас: ${REASONS[c.waiting_reason] || "нужен ответ"}`, "tag")
        : c.taken_over_at
          ? el("span", "Отвечаете вы", "tag quiet")
          : null;
      const last = el("span", c.last_text || "", "last");
      button.append(who, ...(tag ? [tag] : []), last, el("span", when(c.updated_at), "muted small-left"));
      button.addEventListener("click", () => openChat(c.phone));
      li.append(button);
      return li;
    }),
  );
  if (page.open) renderChatState();
}

// A chat is named by the customer's phone, `lid:…` when WhatsApp hides their number (they may have given one),
// or `tg:…` / `max:…` for a customer of the salon's Telegram or MAX bot.
const MESSENGERS = { "tg:": "Telegram", "max:": "MAX" };
function customer(c, chat) {
  const name = c && c.name ? `${c.name}, ` : "";
  const messenger = Object.keys(MESSENGERS).find((prefix) => chat.startsWith(prefix));
  if (messenger) {
    const phone = c && c.customer_phone ? `, +${c.customer_phone}` : "";
    return `${name}${MESSENGERS[messenger]}${phone}`;
  }
  if (!chat.startsWith("lid:")) return `${name}+${chat}`;
  return c && c.customer_phone ? `${name}+${c.customer_phone} (назвал сам)` : `${name}номер скрыт`;
}

function entry(phone) {
  return ((page.view && page.view.inbox) || []).find((c) => c.phone === phone) || null;
}

function renderChatState() {
  const c = entry(page.open);
  const taken = Boolean(c && c.taken_over_at);
  const silentUntil = c ? toMillis(c.bot_silent_until) : null;
  const silent = Boolean(silentUntil && silentUntil > Date.now());
  const until = silent ? new Date(silentUntil).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" }) : "";
  $("chat-state").textContent = taken
    ? "Вы отвечаете этому клиенту — бот молчит в этом чате."
    : c && c.waiting_since
      ? "Клиент ждёт ответа человека. Ответьте здесь или в WhatsApp салона."
      : silent
        ? `Здесь отвечает человек — бот молчит в этом чате до ${until}.`
        : "Бот отвечает этому клиенту.";
  $("takeover").hidden = taken;
  $("resume").hidden = !(taken || silent);
}

function shownText(m) {
  if (m.undecryptable) return "[сообщение не удалось прочитать]";
  if (m.media === "voice") {
    const length = m.audio_seconds ? ` ${m.audio_seconds} с` : "";
    const heard = m.transcript ? `: «${m.transcript}»` : " (не расшифровано)";
    return `[голосовое${length}]${heard}${m.text ? ` ${m.text}` : ""}`;
  }
  return m.text || `[${m.media || "вложение"}]`;
}

async function loadTranscript() {
  const phone = page.open;
  try {
    const body = await page.api.conversation(phone);
    if (page.open !== phone) return;
    $("transcript").replaceChildren(
      ...body.messages.map((m) => {
        const who = { customer: "Клиент", bot: "Бот", staff: "Салон" }[m.direction] || m.direction;
        const li = el("li", null, `msg ${m.direction}`);
        li.append(el("b", `${who}: `), el("span", shownText(m)), el("span", ` ${when(m.at)}`, "muted"));
        return li;
      }),
    );
  } catch (err) {
    $("chat-error").textContent = explain(err);
    $("chat-error").hidden = false;
  }
}

async function openChat(phone) {
  page.open = phone;
  page.replyId = null;
  $("reply-text").value = "";
  const c = entry(phone);
  $("chat-title").textContent = customer(c, phone);
  $("chat-error").hidden = true;
  $("transcript").replaceChildren();
  $("chat").hidden = false;
  renderChatState();
  await loadTranscript();
  $("chat").scrollIntoView({ block: "start" });
}

async function chatAction(fn) {
  const phone = page.open;
  $("chat-error").hidden = true;
  for (const id of ["takeover", "resume"]) $(id).disabled = true;
  try {
    await fn(phone);
  } catch (err) {
    $("chat-error").textContent = explain(err);
    $("chat-error").hidden = false;
  } finally {
    for (const id of ["takeover", "resume"]) $(id).disabled = false;
  }
}

async function sendReply(event) {
  event.preventDefault();
  const text = $("reply-text").value.trim();
  if (!text || !page.open) return;
  // One id per message until it is accepted: a second click or a retry after a network error sends it once.
  page.replyId = page.replyId || crypto.randomUUID();
  $("reply-send").disabled = true;
  $("chat-error").hidden = true;
  try {
    await page.api.reply(page.open, text, page.replyId);
    page.replyId = null;
    $("reply-text").value = "";
  } catch (err) {
    $("chat-error").textContent = explain(err);
    $("chat-error").hidden = false;
  } finally {
    $("reply-send").disabled = false;
  }
}

// --- week, notices -----------------------------------------------------------------------------------------

function renderWeek(view) {
  const w = view.week || {};
  const share = w.off_hours_share === null || w.off_hours_share === undefined ? null : Math.round(w.off_hours_share * 100);
  $("week-summary").textContent =
    `Бот ответил клиентам: ${w.customers || 0}. Записал: ${w.booked || 0}, перенёс: ${w.rescheduled || 0}, ` +
    `отменил: ${w.cancelled || 0}.` + (share === null ? "" : ` Писали в нерабочее время: ${share}%.`) +
    (w.review_requests
      ? ` Оценку визита попросили: ${w.review_requests}, ответили: ${w.review_answers || 0}` +
        (w.review_average ? `, средняя оценка ${String(w.review_average).replace(".", ",")}.` : ".")
      : "") +
    (w.nudges ? ` Предложили записаться снова: ${w.nudges}, записались: ${w.nudge_bookings || 0}.` : "") +
    (w.waitlisted
      ? ` Лист ожидания: ${w.waitlisted}, освободившееся время предложено ${w.waitlist_offers || 0}, записались ${w.waitlist_booked || 0}.`
      : "");
  $("week-low-reviews").replaceChildren(
    ...(w.low_reviews || []).map((r) =>
      el("li", `${r.rating} из 5${r.master ? `, мастер ${r.master}` : ""}${r.comment ? `: «${r.comment}»` : ""}`),
    ),
  );
  $("week-actions").replaceChildren(
    ...(w.actions || [])
      .slice()
      .reverse()
      .map((a) => el("li", `${ACTIONS[a.kind] || a.kind}: ${a.service || "услуга"}, ${visitTime(a.at)} — ${customer(null, a.customer)}`)),
  );
}

function renderNotices(view) {
  const notices = view.notices || [];
  $("notices-empty").hidden = notices.length > 0;
  $("notices").replaceChildren(
    ...notices.map((n) => {
      const li = el("li");
      li.append(el("b", `${KINDS[n.kind] || n.kind} · ${when(n.at)}: `), el("span", n.text));
      return li;
    }),
  );
}

// --- Telegram and MAX ---------------------------------------------------------------------------------------

const CHANNEL_NAMES = { telegram: "Telegram", max: "MAX" };
// The same shapes the server checks (aiadmin.channels.bots.TOKEN_FORMAT): a typo is said before any request.
const TOKEN_FORMAT = { telegram: /^\d{5,20}:[A-Za-z0-9_-]{30,80}$/, max: /^[A-Za-z0-9_.:-]{20,300}$/ };

function channelResult(text, error = false) {
  $("channel-result").textContent = text;
  $("channel-result").className = error ? "error" : "muted";
  $("channel-result").hidden = !text;
}

function renderChannels(view) {
  const bots = view.channels || [];
  $("channel-list").replaceChildren(
    ...bots.map((b) => {
      const li = el("li", null, "channel");
      li.dataset.channel = b.channel;
      const title = el("p");
      const link = el("a", `@${b.username}`);
      link.href = b.link;
      link.target = "_blank";
      link.rel = "noopener";
      title.append(el("b", `${CHANNEL_NAMES[b.channel] || b.channel}: `), link);
      const qr = el("img", null, "qr");
      qr.src = b.qr;
      qr.alt = `QR-код бота @${b.username}`;
      const hint = el("p", "Ссылку и QR-код можно разместить в Instagram, на Яндекс Картах и в 2ГИС.", "muted");
      const notices = el("button", b.owner_notices ? "Уведомления приходят сюда ✓" : `Получать уведомления в ${CHANNEL_NAMES[b.channel]}`);
      notices.type = "button";
      notices.addEventListener("click", () => ownerLink(b.channel));
      const remove = el("button", "Отключить");
      remove.type = "button";
      remove.addEventListener("click", () => removeBot(b.channel));
      li.append(title);
      if (b.broken) {
        li.append(el("p", "Бот не работает: мессенджер не принимает его токен (его отозвали или сменили). Вставьте новый токен ниже.", "error"));
      }
      li.append(qr, hint, notices, remove);
      return li;
    }),
  );
}

async function connectBot(event) {
  event.preventDefault();
  const f = $("channel-form");
  const token = f.bot_token.value.trim();
  if (!token) return channelResult("Вставьте токен бота.", true);
  if (!TOKEN_FORMAT[f.channel.value].test(token)) {
    return channelResult("Это не похоже на токен бота: скопируйте его целиком из @BotFather или кабинета MAX.", true);
  }
  $("channel-connect").disabled = true;
  try {
    const result = await page.api.connectBot(f.channel.value, token);
    f.bot_token.value = "";
    channelResult(`Бот @${result.bot.username} подключён: клиенты могут писать ему.`);
    render({ ...page.view, channels: [...(page.view.channels || []).filter((b) => b.channel !== result.bot.channel), result.bot] });
  } catch (err) {
    channelResult(err.code === "bad_bot_token" ? "Мессенджер не знает такого токена — проверьте, что скопировали его целиком." : explain(err), true);
  } finally {
    $("channel-connect").disabled = false;
  }
  return undefined;
}

async function removeBot(channel) {
  try {
    await page.api.removeBot(channel);
    channelResult(`Бот ${CHANNEL_NAMES[channel]} отключён.`);
  } catch (err) {
    channelResult(explain(err), true);
  }
}

async function ownerLink(channel) {
  try {
    const result = await page.api.ownerBotLink(channel);
    const a = el("a", "Открыть бота и нажать «Старт»");
    a.href = result.link;
    a.target = "_blank";
    a.rel = "noopener";
    channelResult("");
    $("channel-result").replaceChildren("Откройте ссылку в течение 30 минут со своего телефона: ", a);
    $("channel-result").hidden = false;
  } catch (err) {
    channelResult(explain(err), true);
  }
}

// --- settings -----------------------------------------------------------------------------------------------

function fillHours(select, from, to, offLabel) {
  const options = offLabel ? [el("option", offLabel)] : [];
  if (offLabel) options[0].value = "-1";
  for (let h = from; h <= to; h += 1) {
    const o = el("option", `${String(h).padStart(2, "0")}:00`);
    o.value = String(h);
    options.push(o);
  }
  select.replaceChildren(...options);
}

function fillSettings(view) {
  if (page.formFilled) return; // never overwrite what the owner is typing
  const s = view.settings || {};
  const f = $("settings");
  f.bot_enabled.checked = s.bot_enabled !== false;
  f.staff_pause_min.value = s.staff_pause_min || 120;
  f.welcome_text.value = s.welcome_text || "";
  f.phone.value = s.phone ? `+${s.phone}` : view.owner_phone ? `+${view.owner_phone}` : "";
  f.summary_hour.value = s.summary_hour === null || s.summary_hour === undefined ? "-1" : String(s.summary_hour);
  const r = s.reminders || {};
  f.reminders_enabled.checked = r.enabled !== false;
  f.reminders_notices.checked = r.notices !== false;
  f.day_before_hour.value = String(r.day_before_hour || 19);
  const rv = s.reviews || {};
  f.reviews_enabled.checked = rv.enabled !== false;
  f.reviews_link.value = rv.link || "";
  f.no_show_enabled.checked = Boolean((s.no_show || {}).enabled);
  const rb = s.rebooking || {};
  f.rebooking_enabled.checked = Boolean(rb.enabled);
  f.rebooking_days.value = rb.default_interval_days || 28;
  f.waitlist_enabled.checked = (s.waitlist || {}).enabled !== false;
  page.formFilled = true;
}

async function saveSettings(event) {
  event.preventDefault();
  const f = $("settings");
  const result = $("settings-result");
  const change = {
    bot_enabled: f.bot_enabled.checked,
    staff_pause_min: Number(f.staff_pause_min.value) || 120,
    welcome_text: f.welcome_text.value.trim(),
    summary_hour: Number(f.summary_hour.value),
    reminders: {
      enabled: f.reminders_enabled.checked,
      notices: f.reminders_notices.checked,
      day_before_hour: Number(f.day_before_hour.value),
    },
    phone: f.phone.value.trim(), // the server reads any usual spelling; empty: the installer's number
    reviews: { enabled: f.reviews_enabled.checked, link: f.reviews_link.value.trim() },
    no_show: { enabled: f.no_show_enabled.checked },
    rebooking: { enabled: f.rebooking_enabled.checked, default_interval_days: Number(f.rebooking_days.value) || 28 },
    waitlist: { enabled: f.waitlist_enabled.checked },
  };
  const code = f.phone_code.value.replace(/\D/g, "");
  if (!$("phone-code-row").hidden && code) change.phone_code = code;
  $("settings-save").disabled = true;
  try {
    await page.api.saveSettings(change);
    result.textContent = "Сохранено. Бот работает по новым настройкам со следующего сообщения.";
    result.className = "muted";
    $("phone-code-row").hidden = true;
    f.phone_code.value = "";
  } catch (err) {
    result.className = "error";
    if (err.code === "phone_code_required") {
      // A new number gets a code first: notices go only where it has been received.
      try {
        const sent = await page.api.sendPhoneCode(change.phone);
        result.textContent =
          `Мы отправили код в WhatsApp на новый номер +${sent.to}. Введите его и нажмите «Сохранить». ` +
          "Прежний номер получит сообщение о смене.";
        result.className = "muted";
        $("phone-code-row").hidden = false;
        f.phone_code.focus();
      } catch (sendErr) {
        result.textContent = explain(sendErr);
      }
    } else {
      result.textContent = err.status === 400 ? `Не сохранено: проверьте поля. ${err.message}` : explain(err);
    }
  } finally {
    result.hidden = false;
    $("settings-save").disabled = false;
  }
}

// --- the owner's code ----------------------------------------------------------------------------------------

function verifyResult(text, error = false) {
  $("verify-result").textContent = text;
  $("verify-result").className = error ? "error" : "muted";
  $("verify-result").hidden = false;
}

function showVerify(details) {
  const canSend = Boolean(details && details.can_send);
  $("code-send").hidden = !canSend;
  if (!canSend) {
    $("verify-text").textContent =
      "Переписка с клиентами и настройки бота открываются владельцу салона. Код отправить некуда: WhatsApp " +
      "салона не подключён. Попросите владельца салона открыть AI Admin из YCLIENTS.";
  }
  show("verify");
}

async function sendCode() {
  $("code-send").disabled = true;
  try {
    const sent = await page.api.sendAccessCode();
    if (sent.owner) return openPage();
    const where = sent.to === "Telegram" || sent.to === "MAX" ? `владельцу в ${sent.to}` : `в WhatsApp на номер +${sent.to}`;
    verifyResult(`Код отправлен ${where}. Он действует 10 минут.`);
    $("code-form").hidden = false;
    $("code-send").textContent = "Отправить код ещё раз";
    $("code-input").focus();
  } catch (err) {
    verifyResult(explain(err), true);
  } finally {
    $("code-send").disabled = false;
  }
}

async function checkCode(event) {
  event.preventDefault();
  const code = $("code-input").value.replace(/\D/g, "");
  if (code.length !== 6) return verifyResult("Код — это 6 цифр из сообщения в WhatsApp.", true);
  $("code-check").disabled = true;
  try {
    await page.api.verifyAccessCode(code);
    $("verify-result").hidden = true;
    await openPage();
  } catch (err) {
    $("code-input").value = "";
    verifyResult(explain(err), true);
  } finally {
    $("code-check").disabled = false;
  }
}

// --- start --------------------------------------------------------------------------------------------------

function render(view) {
  page.view = view;
  renderStatus(view);
  renderInbox(view);
  renderWeek(view);
  renderNotices(view);
  renderChannels(view);
  fillSettings(view);
  app.dataset.updated = String(toMillis(view.updated_at) || Date.now());
}

async function openPage() {
  let opened;
  try {
    opened = await page.api.ownerPage();
  } catch (err) {
    if (err.code === "owner_code_required") return showVerify(err.details);
    return invalid(err.code);
  }
  if (page.started) return undefined;
  page.started = true;
  $("salon-name").textContent = opened.salon.title;
  document.title = `AI Admin — ${opened.salon.title}`;
  $("relink").href = `/marketplace/onboarding?token=${encodeURIComponent(page.token)}`;
  fillHours($("summary_hour"), 7, 22, "Не присылать");
  fillHours($("day_before_hour"), 9, 21);
  $("settings").addEventListener("submit", saveSettings);
  $("channel-form").addEventListener("submit", connectBot);
  $("chat-close").addEventListener("click", () => {
    page.open = null;
    $("chat").hidden = true;
  });
  $("takeover").addEventListener("click", () => chatAction((p) => page.api.takeOver(p)));
  $("resume").addEventListener("click", () => chatAction((p) => page.api.giveBack(p)));
  $("reply-form").addEventListener("submit", sendReply);
  showWhatsApp({ state: opened.session.status, message: opened.session.message });
  show("owner");
  const refused = (err) => invalid(err.code);
  watchSession({
    viewId: opened.view_id,
    sessionId: opened.session.session_id,
    api: page.api,
    onStatus: showWhatsApp,
    onFallback: () => {},
    onRefused: refused,
  });
  watchDocument("owner_views", opened.owner_view_id, (view) => {
    render(view);
    if (page.open) loadTranscript();
  }, () => invalid("registration_expired"));
  return undefined;
}

async function start() {
  page.token = readToken();
  if (!page.token) return invalid("missing_token");
  page.api = createApi(page.token);
  $("code-send").addEventListener("click", sendCode);
  $("code-form").addEventListener("submit", checkCode);
  return openPage();
}

start();
