"""The runs of the reminders: one record per cron run (per company) and per *Process follow-ups*.

For the account managers: when, who, which customers were reminded, failed, lacked contact
details or were skipped, without reading the server log.
"""

from odoo import Command, api, fields, models
from odoo.tools import format_datetime


class AccountFollowupRun(models.Model):
    _name = "account.followup.run"
    _description = "Follow-up Run"
    _order = "date desc, id desc"
    _rec_name = "date"

    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    user_id = fields.Many2one("res.users", string="Run By", readonly=True, help="Empty for the daily run.")
    automatic = fields.Boolean(readonly=True, help="The daily run, by nobody in person.")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    reminded_partner_ids = fields.Many2many(
        "res.partner", "account_followup_run_reminded_rel", "run_id", "partner_id", string="Reminded", readonly=True
    )
    failed_partner_ids = fields.Many2many(
        "res.partner", "account_followup_run_failed_rel", "run_id", "partner_id", string="Failed", readonly=True
    )
    missing_partner_ids = fields.Many2many(
        "res.partner", "account_followup_run_missing_rel", "run_id", "partner_id",
        string="Missing Contact Details", readonly=True,
    )
    skipped_partner_ids = fields.Many2many(
        "res.partner", "account_followup_run_skipped_rel", "run_id", "partner_id", string="Skipped", readonly=True
    )
    reminded_count = fields.Integer(readonly=True)
    failed_count = fields.Integer(readonly=True)
    missing_count = fields.Integer(string="Missing Details Count", readonly=True)
    skipped_count = fields.Integer(readonly=True)
    has_issues = fields.Boolean(
        string="To Check", readonly=True, index=True, help="Some reminders failed or lacked contact details."
    )

    # ------------------------------------------------------------
    # COMPUTE METHODS
    # ------------------------------------------------------------

    @api.depends("date")
    def _compute_display_name(self):
        """The run's date and time in the user's time zone and language (breadcrumbs)."""
        for run in self:
            run.display_name = format_datetime(self.env, run.date) if run.date else ""

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _prepare_followup_run_values(self, results_list):
        """Return the values of the run of the results of `_process_followups` (one per batch)."""
        Partner = self.env["res.partner"]
        kinds = {"reminded": Partner, "failed": Partner, "missing": Partner, "skipped": Partner}
        for results in results_list:
            kinds["reminded"] |= results["sent"]
            kinds["failed"] |= results["failed"]
            kinds["missing"] |= results["missing"]
            kinds["skipped"] |= Partner.browse(list(results["skipped"]))
        automatic = Partner._followup_sent_automatically()
        return {
            "user_id": False if automatic else self.env.user.id,
            "automatic": automatic,
            "company_id": self.env.company.id,
            **{f"{kind}_partner_ids": [Command.set(partners.ids)] for kind, partners in kinds.items()},
            **{f"{kind}_count": len(partners) for kind, partners in kinds.items()},
            "has_issues": bool(kinds["failed"] or kinds["missing"]),
        }

    @api.model
    def _record_followup_run(self, results_list):
        """Leave the record of a run (see `_prepare_followup_run_values`)."""
        return self.create(self._prepare_followup_run_values(results_list))
