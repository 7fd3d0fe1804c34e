// The council type-ahead: a progressive enhancement of the 153-council <select>s marked
// data-module="council-autocomplete" (tracker/admin/forms.py). Without JavaScript, or before this
// runs, the plain select works; once enhanced, the select stays in the form, hidden, and is what
// is posted. accessible-autocomplete is served by us (scripts/build-assets.mjs), never a CDN.
import "../vendor/accessible-autocomplete/accessible-autocomplete.min.js";

const { accessibleAutocomplete } = window;

function dropdownArrow({ className }) {
  return (
    `<svg class="${className}" aria-hidden="true" focusable="false" viewBox="0 0 512 512">` +
    '<path d="M256 384 64 192h384z" fill="currentColor"/></svg>'
  );
}

function selectedText(select) {
  const option = select.options[select.selectedIndex];
  return option && option.value ? option.textContent.trim() : "";
}

// accessible-autocomplete sets the select only when an option is confirmed. What the field shows
// when the form is sent is what counts: a name chosen, or nothing (the select's empty choice, so
// the server says "Select a council" or shows any council) rather than an earlier choice.
function syncOnSubmit(select, input) {
  const form = select.form;
  if (!form || !input) return;
  form.addEventListener("submit", () => {
    const typed = input.value.trim().toLowerCase();
    const match = Array.from(select.options).find(
      (option) => option.value && option.textContent.trim().toLowerCase() === typed,
    );
    select.value = match ? match.value : "";
  });
}

// The grey completion drawn behind the typed text is a second, unlabelled <input>, for the eye
// only: screen readers hear the status messages instead. accessible-autocomplete 3.0.1 does not
// hide it from them, so axe reports an input without a label; hide it as it appears.
function hideCompletionHint(container) {
  const hide = () => {
    for (const hint of container.querySelectorAll(".autocomplete__hint:not([aria-hidden])")) {
      hint.setAttribute("aria-hidden", "true");
    }
  };
  new MutationObserver(hide).observe(container, { childList: true, subtree: true });
}

for (const select of document.querySelectorAll('select[data-module="council-autocomplete"]')) {
  const id = select.id;
  accessibleAutocomplete.enhanceSelectElement({
    selectElement: select,
    defaultValue: selectedText(select),
    showAllValues: true,
    dropdownArrow,
    // The select's own error state and hint stay linked to the new field by its id.
    displayMenu: "overlay",
  });
  const input = document.getElementById(id);
  hideCompletionHint(select.parentNode);
  const described = select.getAttribute("aria-describedby");
  if (input && described) {
    const own = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", [own, described].filter(Boolean).join(" "));
  }
  syncOnSubmit(select, input);
}
