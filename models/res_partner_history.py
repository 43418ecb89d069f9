# The reminder history of res.partner, in its own file (the follow-up is in res_partner.py).
# pylint: disable=consider-merging-classes-inherited
from odoo import _, fields, models
from odoo.tools import SQL

from .account_followup_reminder import FAILURE_CHANNELS


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

    followup_undelivered = fields.Boolean(
        string="Reminder Not Delivered",
        compute="_compute_followup_undelivered",
        search="_search_followup_undelivered",
        groups="account.group_account_readonly,account.group_account_invoice",
        help="The last reminder of the company whose delivery is known bounced or failed (the "
        "channel and the reason say how); cleared when a later reminder is delivered. The daily "
        "run does not email a failed address again until the contact's email is changed.",
    )
    followup_undelivered_channel = fields.Selection(
        FAILURE_CHANNELS,
        string="Not Delivered by",
        compute="_compute_followup_undelivered",
        groups="account.group_account_readonly,account.group_account_invoice",
    )
    followup_undelivered_reason = fields.Char(
        string="Not Delivered Because",
        compute="_compute_followup_undelivered",
        groups="account.group_account_readonly,account.group_account_invoice",
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

    def _compute_followup_undelivered(self):
        Reminder = self.env["account.followup.reminder"]
        self.env.cr.execute(Reminder._followup_undelivered_sql(self.env.company, self._origin.ids))
        reminders = dict(self.env.cr.fetchall())
        for partner in self:
            reminder = Reminder.browse(reminders.get(partner._origin.id))
            partner.followup_undelivered = bool(reminder)
            partner.followup_undelivered_channel = reminder.failure_channel
            partner.followup_undelivered_reason = reminder._get_failure_label() if reminder else False

    def _search_followup_undelivered(self, operator, value):
        """Customers whose last reminder of the company with a known delivery failed."""
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise NotImplementedError(_("Operation not supported"))
        query = self.env["account.followup.reminder"]._followup_undelivered_sql(self.env.company)
        subquery = SQL("(SELECT undelivered.partner_id FROM (%s) undelivered)", query)
        return [("id", "in" if (operator == "=") == value else "not in", subquery)]

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
