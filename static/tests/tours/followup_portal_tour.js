/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * The customer opens the follow-up page from the link of its reminder, pays all its
 * overdue invoices with the demo provider, and is back on its page with nothing overdue.
 */
registry.category("web_tour.tours").add("account_payment_followup_pay_all_overdue", {
    test: true,
    steps: () => [
        {
            content: "The page of the customer lists its overdue invoices",
            trigger: ".o_followup_portal .o_followup_overdue",
            isCheck: true,
        },
        {
            content: "Pay all overdue",
            trigger: "a.o_followup_pay_all",
        },
        {
            content: "Choose the demo provider",
            trigger: ".o_followup_portal_pay input[name='o_payment_radio'][data-provider-code='demo']",
        },
        {
            content: "Give the test payment details",
            trigger: "#customer_input",
            run: "text 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "button[name='o_payment_submit_button']:not(:disabled)",
        },
        {
            content: "Back on the page of the customer: nothing is overdue",
            trigger: ".o_followup_portal:not(:has(.o_followup_overdue))",
            isCheck: true,
        },
    ],
});
