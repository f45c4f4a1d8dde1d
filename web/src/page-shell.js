// What both pages do alike: show one screen at a time, take the registration token out of the address bar, and
// explain an unusable link.

import { INVALID_LINK } from "./texts.js";

const $ = (id) => document.getElementById(id);

export function show(screen) {
  for (const el of document.querySelectorAll("[data-screen-id]")) el.hidden = el.dataset.screenId !== screen;
  $("app").dataset.screen = screen;
}

export function readToken() {
  const fromUrl = new URLSearchParams(location.search).get("token");
  if (fromUrl) {
    // Out of the address bar (and of screenshots, history and shared links); kept for a reload of this tab.
    sessionStorage.setItem("aiadmin.registration", fromUrl);
    history.replaceState(null, "", location.pathname);
    return fromUrl;
  }
  return sessionStorage.getItem("aiadmin.registration");
}

// `reword`: the page's own wording of the way back (the owner page is opened, not connected, from YCLIENTS).
export function invalid(code, reword = (text) => text) {
  const text = INVALID_LINK[code] || INVALID_LINK.invalid_token;
  $("invalid-title").textContent = text.title;
  $("invalid-text").textContent = reword(text.text);
  show("invalid");
}
