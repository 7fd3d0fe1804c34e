// Follow a regional pack being generated in the background: ask the server every few seconds how
// far it has got, show the step on the page, and reload the page when it has finished (the page
// then offers the download, or says why it failed). Without JavaScript, refreshing the page
// shows the same progress: the job's state is kept on the server.
const box = document.querySelector("[data-pack-status-url]");

if (box) {
  const url = box.dataset.packStatusUrl;
  const parts = {
    done: box.querySelector("[data-pack-done]"),
    total: box.querySelector("[data-pack-total]"),
    percent: box.querySelector("[data-pack-percent]"),
    message: box.querySelector("[data-pack-message]"),
  };
  const every = 2000;
  // Give up following after an hour; the server marks a lost job failed after 15 minutes.
  const stopAt = Date.now() + 60 * 60 * 1000;

  const show = (job) => {
    parts.done.textContent = String(job.done);
    parts.total.textContent = job.total ? String(job.total) : "?";
    parts.percent.textContent = String(job.percent);
    parts.message.textContent = job.message;
  };

  const poll = async () => {
    try {
      const response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
        cache: "no-store",
      });
      if (response.ok) {
        const job = await response.json();
        if (job.finished) {
          window.location.reload();
          return;
        }
        show(job);
      }
    } catch {
      // The network dropped for a moment: try again next time.
    }
    if (Date.now() < stopAt) {
      window.setTimeout(poll, every);
    }
  };

  window.setTimeout(poll, every);
}
