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
    followup_last_run_issue = fields.Boolean(
        string="To Check after the Last Run",
        compute="_compute_followup_last_run_issue",
        search="_search_followup_last_run_issue",
        help="The reminder failed or lacked contact details in the last run of the company.",
    )

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

    def _compute_followup_last_run_issue(self):
        issues = set(self.search([("id", "in", self.ids), ("followup_last_run_issue", "=", True)]).ids)
        for partner in self:
            partner.followup_last_run_issue = partner.id in issues

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

    def _search_followup_last_run_issue(self, operator, value):
        """Customers whose reminder failed or lacked contact details in the last run of the company."""
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(_("Operation not supported"))
        last_run = self.env["account.followup.run"].search([("company_id", "=", self.env.company.id)], limit=1)
        partner_ids = (last_run.failed_partner_ids | last_run.missing_partner_ids).ids
        return [("id", "in" if (operator == "=") == value else "not in", partner_ids)]
