// The same rule as the server (aiadmin.wa_session.normalize_pairing_phone): the full international number.
export function normalizePhone(raw) {
  const digits = String(raw || "").trim().replace(/[\s()+\-.]/g, "");
  if (/^[1-9]\d{9,14}$/.test(digits)) return { ok: true, digits };
  if (/^8\d{10}$/.test(digits)) return { ok: false, hint: "russian_8" };
  return { ok: false, hint: "invalid" };
}
