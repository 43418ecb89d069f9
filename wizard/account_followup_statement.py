from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..report.customer_statement import DEFAULT_PERIOD_DAYS


class AccountFollowupStatement(models.TransientModel):
    """Print or email the Customer Statement of customers for a period."""

    _name = "account.followup.statement"
    _description = "Customer Statement"

    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    date_from = fields.Date(
        string="From",
        required=True,
        default=lambda self: fields.Date.context_today(self) - timedelta(days=DEFAULT_PERIOD_DAYS),
    )
    date_to = fields.Date(string="To", required=True, default=lambda self: fields.Date.context_today(self))

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise UserError(_("The statement period must start before it ends."))

    def _get_report_data(self):
        return {"date_from": fields.Date.to_string(self.date_from), "date_to": fields.Date.to_string(self.date_to)}

    def action_print(self):
        """Print the statement of every customer chosen, in one PDF."""
        self.ensure_one()
        return self.env.ref("account_payment_followup.action_report_customer_statement").report_action(
            self.partner_ids.commercial_partner_id, data=self._get_report_data()
        )

    def action_send(self):
        """Open the email of the statement to the customer, the statement of the period attached."""
        self.ensure_one()
        customer = self.partner_ids.commercial_partner_id
        if len(customer) != 1:
            raise UserError(_("Send the statement to one customer at a time."))
        template = self.env.ref("account_payment_followup.email_template_customer_statement")
        return {
            "type": "ir.actions.act_window",
            "name": _("Send the Customer Statement"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": "res.partner",
                "default_res_ids": customer.ids,
                "default_template_id": template.id,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_light",
                # the period of the statement the template attaches (see the report)
                "customer_statement_date_from": fields.Date.to_string(self.date_from),
                "customer_statement_date_to": fields.Date.to_string(self.date_to),
            },
        }
