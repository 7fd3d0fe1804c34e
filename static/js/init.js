// Start GOV.UK Frontend's components (menu toggle, details, checkboxes); pages work without it.
import { initAll } from "../govuk/govuk-frontend.min.js";

initAll();

// Our own enhancements, loaded only on the pages that have something for them to enhance.
if (document.querySelector('select[data-module="council-autocomplete"]')) {
  import("./council-autocomplete.js");
}
