// Follow a regional pack being generated in the background: ask the server every two seconds how
// far it has got, show the step on the page ("Step 2 of 3: drawing the charts") and reload the
// page when the job has ended (the page then offers the download, or says why it failed).
// Without JavaScript, the page asks the reader to refresh it: the job's state is kept on the
// server. With it, the page says that it updates itself, which is then true.
const box = document.querySelector("[data-pack-status-url]");

if (box) {
  const url = box.dataset.packStatusUrl;
  const step = box.querySelector("[data-pack-step]");
  const follow = box.querySelector("[data-pack-follow]");
  const every = 2000;
  // Give up following after an hour; the server marks a lost job failed after 15 minutes.
  const stopAt = Date.now() + 60 * 60 * 1000;

  // The same words as the page's template (templates/reports/region.html).
  const describe = (job) => {
    const done = `(${job.percent}% done)`;
    if (job.status === "queued" || !job.total) {
      return `Waiting to start ${done}`;
    }
    const current = Math.min(job.done + 1, job.total);
    // Lower-case the first letter only: "Laying out the PDF" → "laying out the PDF".
    const message = job.message.charAt(0).toLowerCase() + job.message.slice(1);
    return `Step ${current} of ${job.total}: ${message} ${done}`;
  };

  const show = (job) => {
    const text = describe(job);
    // Only a real change is announced to screen readers (the heading is a polite live region).
    if (step.textContent !== text) {
      step.textContent = text;
    }
  };

  if (follow) {
    follow.textContent =
      "This page updates itself every few seconds; the download appears here when the pack is ready.";
  }

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
          if (follow) {
            follow.textContent = "Finished: loading the download…";
          }
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
    } else if (follow) {
      follow.textContent = "This page has stopped checking. Refresh it to see how far the pack has got.";
    }
  };

  window.setTimeout(poll, every);
}
