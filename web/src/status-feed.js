// Live session status: an onSnapshot listener on the page's own `onboarding_views/{id}` document.
// Only if the listener cannot run (config missing, listener error) does a slow poll of the status API take over.

import { initializeApp } from "firebase/app";
import { connectFirestoreEmulator, doc, getFirestore, onSnapshot } from "firebase/firestore";

const FALLBACK_POLL_MS = 4000;
// The SDK retries a broken connection quietly instead of failing the listener, so silence counts as failure too.
const FIRST_SNAPSHOT_MS = 6000;

async function firebaseConfig() {
  // Firebase Hosting serves the web app's config here; the local gateway serves the emulator's.
  const resp = await fetch("/__/firebase/init.json", { cache: "no-store" });
  if (!resp.ok) throw new Error(`init.json: HTTP ${resp.status}`);
  return resp.json();
}

let database = null;

// One Firestore client per page, whichever documents it watches.
export function firestore() {
  if (!database) {
    database = firebaseConfig().then((config) => {
      const db = getFirestore(initializeApp(config));
      if (config.firestoreEmulatorHost) {
        const [host, port] = config.firestoreEmulatorHost.split(":");
        connectFirestoreEmulator(db, host, Number(port));
      }
      return db;
    });
  }
  return database;
}

// A listener on one document the page may read (its capability view); onData gets its fields on every change.
export async function watchDocument(collection, id, onData, onError) {
  const db = await firestore();
  return onSnapshot(
    doc(db, collection, id),
    (snap) => snap.exists() && onData(snap.data()),
    (err) => onError(String(err && err.code ? err.code : err)),
  );
}

export function toMillis(value) {
  if (!value) return null;
  if (typeof value.toMillis === "function") return value.toMillis();
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

// One shape for both sources: the view document (listener) and the API's `describe` body (poll and replies).
export function fromView(data) {
  return {
    state: data.state || null,
    message: data.message || null,
    qr: data.qr || null,
    code: data.pairing_code || null,
    expiresAt: toMillis(data.state === "qr" ? data.qr_expires_at : data.pairing_expires_at),
    updatedAt: toMillis(data.updated_at),
    setup: data.setup ? { state: data.setup.state, message: data.setup.message || null } : null,
  };
}

export function fromApi(body) {
  return {
    state: body.status || null,
    message: body.message || null,
    qr: body.qr || null,
    code: body.code || null,
    expiresAt: toMillis(body.expires_at),
    updatedAt: toMillis(body.updated_at),
    setup: body.setup ? { state: body.setup.state, message: body.setup.message || null } : null,
  };
}

export async function watchSession({ viewId, sessionId, api, onStatus, onFallback, onRefused }) {
  let pollTimer = null;
  let unsubscribe = null;
  let watchdog = null;
  const startPolling = (reason) => {
    clearTimeout(watchdog);
    if (pollTimer) return;
    onFallback(reason);
    const tick = async () => {
      try {
        onStatus(fromApi(await api.status(sessionId)));
      } catch (err) {
        if (err.status === 401 || err.status === 410) return onRefused(err); // the registration ended: stop
        // otherwise the next tick tries again; the page already shows the last known status
      }
      pollTimer = setTimeout(tick, FALLBACK_POLL_MS);
    };
    tick();
  };
  try {
    const db = await firestore();
    watchdog = setTimeout(() => startPolling("no answer from Firestore"), FIRST_SNAPSHOT_MS);
    unsubscribe = onSnapshot(
      doc(db, "onboarding_views", viewId),
      { includeMetadataChanges: true },
      (snap) => {
        if (!snap.metadata.fromCache) clearTimeout(watchdog);
        if (snap.exists()) onStatus(fromView(snap.data()));
      },
      (err) => startPolling(String(err && err.code ? err.code : err)),
    );
  } catch (err) {
    startPolling(String(err));
  }
  return () => {
    clearTimeout(watchdog);
    if (unsubscribe) unsubscribe();
    if (pollTimer) clearTimeout(pollTimer);
  };
}
