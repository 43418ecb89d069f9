# The reminder history of res.partner, in its own file (the follow-up is in res_partner.py).
# pylint: disable=consider-merging-classes-inherited
from odoo import _, fields, models


class ResPartner(models.Model):
    """Extends `base` with the customer's reminders (``account.followup.reminder``)."""

    _inherit = "res.partner"

    followup_reminder_ids = fields.One2many(
        "account.followup.reminder", "partner_id", string="Reminder History", readonly=True
    )
    followup_reminder_count = fields.Integer(string="Reminders Sent Count", compute="_compute_followup_reminder_count")

    def _compute_followup_reminder_count(self):
        counts = dict(
            self.env["account.followup.reminder"]._read_group(
                [("partner_id", "in", self.ids), ("company_id", "=", self.env.company.id)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.followup_reminder_count = counts.get(partner, 0)

    def action_open_followup_reminders(self):
        """Open the reminders sent to the customer in the current company."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_payment_followup.account_followup_reminder_action"
        )
        action.update({
            "name": _("Reminders of %(partner)s", partner=self.display_name),
            "domain": [("partner_id", "=", self.id), ("company_id", "=", self.env.company.id)],
            "view_mode": "tree,pivot,graph,form",
            "views": [(False, "tree"), (False, "pivot"), (False, "graph"), (False, "form")],
        })
        return action
