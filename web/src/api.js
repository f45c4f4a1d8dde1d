// The onboarding and owner APIs: JSON in and out, the registration token as a Bearer header, a timeout on every call.
// Failures become ApiError with the server's stable code, so the page can explain them in Russian.

const TIMEOUT_MS = 20000;

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

export function createApi(token) {
  async function call(method, path, body) {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    let resp;
    try {
      resp = await fetch(path, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
        },
        body: body !== undefined ? JSON.stringify(body) : undefined,
        signal: ctrl.signal,
        cache: "no-store",
      });
    } catch (err) {
      throw new ApiError(0, "network", String(err));
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await resp.json();
    } catch {
      data = null;
    }
    if (!resp.ok || !data || data.success === false) {
      const err = (data && data.error) || {};
      throw new ApiError(resp.status, err.code || `http_${resp.status}`, err.message, err.details);
    }
    return data;
  }
  return {
    session: () => call("GET", "/marketplace/api/session"),
    // confirm: the owner agreed to replace the salon's existing WhatsApp link (see relink_needs_confirmation).
    requestQr: (confirm = false) => call("POST", "/marketplace/api/qr", confirm ? { confirm_relink: true } : {}),
    requestPairingCode: (phone, confirm = false) =>
      call("POST", "/marketplace/api/pairing-code", { phone_number: phone, ...(confirm ? { confirm_relink: true } : {}) }),
    status: (sessionId) => call("GET", `/marketplace/api/status/${encodeURIComponent(sessionId)}`),
    activate: () => call("POST", "/marketplace/activate", { token }),
    // the owner page
    ownerPage: () => call("GET", "/marketplace/owner/api/page"),
    sendAccessCode: () => call("POST", "/marketplace/owner/api/access-code", {}),
    verifyAccessCode: (code) => call("POST", "/marketplace/owner/api/access-code/verify", { code }),
    sendPhoneCode: (phone) => call("POST", "/marketplace/owner/api/phone-code", { phone }),
    conversation: (phone) => call("GET", `/marketplace/owner/api/conversations/${encodeURIComponent(phone)}`),
    takeOver: (phone) => call("POST", `/marketplace/owner/api/conversations/${encodeURIComponent(phone)}/takeover`),
    giveBack: (phone) => call("POST", `/marketplace/owner/api/conversations/${encodeURIComponent(phone)}/resume`),
    reply: (phone, text, id) =>
      call("POST", `/marketplace/owner/api/conversations/${encodeURIComponent(phone)}/reply`, { text, id }),
    saveSettings: (change) => call("PUT", "/marketplace/owner/api/settings", change),
    connectBot: (channel, botToken) => call("PUT", `/marketplace/owner/api/channels/${channel}`, { bot_token: botToken }),
    removeBot: (channel) => call("DELETE", `/marketplace/owner/api/channels/${channel}`),
    ownerBotLink: (channel) => call("POST", `/marketplace/owner/api/channels/${channel}/owner-link`, {}),
  };
}
