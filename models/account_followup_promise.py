from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import format_date

from . import followup_rules


class AccountFollowupPromise(models.Model):
    """A customer's promise to pay: the chase pauses until the promised date plus the grace
    days of its plan, then the daily run decides whether it was kept or broken."""

    _name = "account.followup.promise"
    _inherit = ["mail.thread"]
    _description = "Promise to Pay"
    _order = "date desc, id desc"
    _check_company_auto = True

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        domain=[("parent_id", "=", False)],
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Promised Date", required=True, tracking=True)
    date_deadline = fields.Date(
        string="Chase Resumes After",
        compute="_compute_date_deadline",
        store=True,
        help="The promised date plus the grace days of the customer's follow-up plan: the chase pauses "
        "until then.",
    )
    date_recorded = fields.Date(
        string="Recorded On",
        required=True,
        default=lambda self: fields.Date.context_today(self),
        help="Payments received from this day count towards the promise.",
    )
    amount = fields.Monetary(string="Amount Promised", required=True)
    note = fields.Text()
    user_id = fields.Many2one(
        "res.users",
        string="Recorded By",
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
    )
    state = fields.Selection(
        selection=[("open", "Open"), ("kept", "Kept"), ("broken", "Broken"), ("cancelled", "Cancelled")],
        required=True,
        default="open",
        tracking=True,
    )

    # ------------------------------------------------------------
    # COMPUTE METHODS
    # ------------------------------------------------------------

    @api.depends("date", "partner_id", "company_id")
    def _compute_date_deadline(self):
        for promise in self:
            partner = promise.partner_id.with_company(promise.company_id)
            plan = partner.followup_plan_id or promise.company_id.followup_default_plan_id
            promise.date_deadline = promise.date and promise.date + timedelta(days=plan.promise_grace_days or 0)

    # ------------------------------------------------------------
    # CRUD METHODS
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        """Extends `base` to note the promise on the customer."""
        promises = super().create(vals_list)
        for promise in promises:
            promise.partner_id._message_log(body=_(
                "Promise to pay %(amount)s on %(date)s recorded.",
                amount=promise._format_amount(),
                date=format_date(self.env, promise.date),
            ))
        return promises

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_cancel(self):
        """Cancel the promise: the chase resumes where it stood."""
        for promise in self.filtered(lambda promise: promise.state == "open"):
            promise.state = "cancelled"
            promise.partner_id._message_log(body=_(
                "Promise to pay %(amount)s on %(date)s cancelled.",
                amount=promise._format_amount(),
                date=format_date(self.env, promise.date),
            ))

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    def _format_amount(self):
        self.ensure_one()
        return self.currency_id and self.currency_id.format(self.amount) or str(self.amount)

    def _get_paid_since(self):
        """Return what the customer paid in the promise's company since it was recorded, in
        company currency: its payments and bank statement lines on receivable accounts."""
        self.ensure_one()
        lines = self.env["account.move.line"].search([
            ("company_id", "=", self.company_id.id),
            ("partner_id", "=", self.partner_id.id),
            ("account_id.account_type", "=", "asset_receivable"),
            ("parent_state", "=", "posted"),
            ("date", ">=", self.date_recorded),
            ("credit", ">", 0),
            "|", ("payment_id", "!=", False), ("statement_line_id", "!=", False),
        ])
        return sum(lines.mapped("credit"))

    @api.model
    def _followup_decide_promises(self, company, today):
        """Decide the company's open promises whose grace days have passed (the daily run):
        kept, or broken with a note and an activity for the follow-up responsible; the
        chase then resumes where it stood."""
        promises = self.search([
            ("company_id", "=", company.id), ("state", "=", "open"), ("date_deadline", "<", today),
        ])
        if not promises:
            return promises
        Partner = self.env["res.partner"].with_company(company)
        decisions = Partner._followup_decide(promises.partner_id.ids)
        Send = self.env["account.followup.send"].with_company(company)
        for promise in promises:
            decision = decisions.get(promise.partner_id.id)
            outcome = followup_rules.promise_outcome(
                promise.amount, promise._get_paid_since(), decision.total_overdue if decision else 0.0
            )
            promise.state = outcome
            values = {"amount": promise._format_amount(), "date": format_date(self.env, promise.date)}
            if outcome == "kept":
                promise.partner_id._message_log(body=_("Promise to pay %(amount)s on %(date)s kept.", **values))
                continue
            note = _("Promise to pay %(amount)s on %(date)s broken: the follow-up resumes.", **values)
            partner = Partner.browse(promise.partner_id.id)
            partner._message_log(body=note)
            Send._schedule_followup_todo(partner, _("Promise to pay broken"), note)
        return promises
