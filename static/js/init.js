// Start GOV.UK Frontend's components (menu toggle, details, checkboxes); pages work without it.
import { initAll } from "../govuk/govuk-frontend.min.js";

initAll();
