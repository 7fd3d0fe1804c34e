// Warn a signed-in person before the idle timeout signs them out, and let them stay signed in
// (WCAG 2.2.1 Timing Adjustable). Loaded by base.html only for a signed-in person. Without
// JavaScript the page explains the timeout instead.
const dialog = document.getElementById("session-timeout");

if (dialog && typeof dialog.showModal === "function") {
  const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const keepAliveUrl = dialog.dataset.keepAliveUrl;
  const signedOutUrl = dialog.dataset.signedOutUrl;
  const warnBefore = Number(dialog.dataset.warnBefore) * 1000;
  const idleTimeout = Number(dialog.dataset.idleSeconds) * 1000;
  const countdown = dialog.querySelector("[data-countdown]");
  const announcement = dialog.querySelector("[data-announcement]");
  const stayButton = dialog.querySelector("[data-stay-signed-in]");
  // A little after the server's own deadline, so the page never leaves a live session early.
  const margin = 2000;

  let expiresAt = Date.now() + Number(dialog.dataset.expiresIn) * 1000;
  let warningTimer;
  let tickTimer;
  let lastAnnouncedMinute;

  const describe = (ms) => {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    if (seconds >= 60) {
      const minutes = Math.ceil(seconds / 60);
      return `${minutes} minute${minutes === 1 ? "" : "s"}`;
    }
    return `${seconds} second${seconds === 1 ? "" : "s"}`;
  };

  const signOutNow = () => {
    const next = window.location.pathname + window.location.search;
    window.location.assign(`${signedOutUrl}?next=${encodeURIComponent(next)}`);
  };

  const tick = () => {
    const left = expiresAt - Date.now();
    if (left + margin <= 0) {
      signOutNow();
      return;
    }
    countdown.textContent = describe(left);
    // Screen readers hear the time left once a minute, then at 30 seconds, not every second.
    const minute = Math.ceil(left / 60000);
    if (minute !== lastAnnouncedMinute && (left > 60000 || left <= 30000)) {
      lastAnnouncedMinute = minute;
      announcement.textContent = `You will be signed out in ${describe(left)}.`;
    }
  };

  const schedule = () => {
    clearTimeout(warningTimer);
    clearInterval(tickTimer);
    warningTimer = setTimeout(() => {
      lastAnnouncedMinute = undefined;
      tick();
      dialog.showModal();
      stayButton.focus();
      tickTimer = setInterval(tick, 1000);
    }, Math.max(0, expiresAt - warnBefore - Date.now()));
  };

  const staySignedIn = async () => {
    stayButton.disabled = true;
    try {
      const response = await fetch(keepAliveUrl, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "X-CSRFToken": csrfToken },
      });
      if (response.status !== 204) {
        signOutNow();
        return;
      }
      expiresAt = Date.now() + idleTimeout;
      dialog.close();
      schedule();
    } catch {
      announcement.textContent = "Sorry, we could not keep you signed in. Save your work now.";
    } finally {
      stayButton.disabled = false;
    }
  };

  stayButton.addEventListener("click", staySignedIn);
  dialog.addEventListener("close", () => clearInterval(tickTimer));
  // Escape means "not now": take it as staying signed in rather than a silent sign-out later.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    staySignedIn();
  });
  schedule();
}
