# The suggested trust level of a customer (issue 16): its figures of the last 12 months, the
# suggestion the company's thresholds give (followup_trust) and the action applying it.
# pylint: disable=consider-merging-classes-inherited
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL, formatLang

from . import followup_trust

TRUST_SELECTION = [
    (followup_trust.TRUST_GOOD, "Good Debtor"),
    (followup_trust.TRUST_NORMAL, "Normal Debtor"),
    (followup_trust.TRUST_BAD, "Bad Debtor"),
]
_TRUST_GROUPS = "account.group_account_readonly,account.group_account_invoice"


class ResPartner(models.Model):
    """Extends `base` with the trust level that a customer's last 12 months in the current
    company suggest, beside the trust level set by hand (``trust``, from `account`)."""

    _inherit = "res.partner"

    followup_trust_suggestion = fields.Selection(
        TRUST_SELECTION,
        string="Suggested Trust Level",
        compute="_compute_followup_trust",
        groups=_TRUST_GROUPS,
        help="The trust level the customer's last 12 months suggest, from the thresholds of the "
        "company's settings. Empty without an invoice due in that time nor a broken promise.",
    )
    followup_trust_invoices = fields.Integer(
        string="Invoices of the Year", compute="_compute_followup_trust", groups=_TRUST_GROUPS
    )
    followup_trust_paid = fields.Integer(
        string="Invoices Paid", compute="_compute_followup_trust", groups=_TRUST_GROUPS
    )
    followup_trust_days_late = fields.Float(
        string="Average Days Late", compute="_compute_followup_trust", groups=_TRUST_GROUPS
    )
    followup_trust_late_share = fields.Float(
        string="Paid Late (%)", compute="_compute_followup_trust", groups=_TRUST_GROUPS
    )
    followup_trust_broken_promises = fields.Integer(
        string="Broken Promises", compute="_compute_followup_trust", groups=_TRUST_GROUPS
    )
    followup_trust_reminders_per_invoice = fields.Float(
        string="Reminders per Invoice", compute="_compute_followup_trust", groups=_TRUST_GROUPS
    )
    followup_trust_summary = fields.Char(
        string="Why this Trust Level", compute="_compute_followup_trust", groups=_TRUST_GROUPS
    )

    # ------------------------------------------------------------
    # COMPUTE METHODS
    # ------------------------------------------------------------

    @api.depends_context("company")
    def _compute_followup_trust(self):
        company = self.env.company
        thresholds = company._followup_trust_thresholds()
        figures = self._followup_trust_figures(company, self._origin.commercial_partner_id.ids)
        for partner in self:
            partner_figures = figures.get(partner._origin.commercial_partner_id.id, followup_trust.TrustFigures())
            partner.followup_trust_invoices = partner_figures.invoices
            partner.followup_trust_paid = partner_figures.paid
            partner.followup_trust_days_late = partner_figures.days_late
            partner.followup_trust_late_share = partner_figures.late_share
            partner.followup_trust_broken_promises = partner_figures.broken_promises
            partner.followup_trust_reminders_per_invoice = partner_figures.reminders_per_invoice
            partner.followup_trust_suggestion = followup_trust.suggest_trust(partner_figures, thresholds)
            partner.followup_trust_summary = (
                _(
                    "Last 12 months: %(invoices)s invoices due, %(paid)s paid, on average %(days)s days late, "
                    "%(share)s%% paid late, %(reminders)s reminders per invoice, %(promises)s broken promises.",
                    invoices=partner_figures.invoices,
                    paid=partner_figures.paid,
                    days=formatLang(self.env, partner_figures.days_late, digits=1),
                    share=formatLang(self.env, partner_figures.late_share, digits=0),
                    reminders=formatLang(self.env, partner_figures.reminders_per_invoice, digits=2),
                    promises=partner_figures.broken_promises,
                )
                if followup_trust.has_history(partner_figures)
                else False
            )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_apply_followup_trust_suggestion(self):
        """Set the trust level of the customers to the one suggested (the form's button and the
        list action *Apply suggested trust level*); customers without a suggestion keep theirs."""
        partners = self.commercial_partner_id
        by_level = {}
        for partner in partners:
            suggestion = partner.followup_trust_suggestion
            if suggestion and suggestion != partner.trust:
                by_level.setdefault(suggestion, partners.browse())
                by_level[suggestion] |= partner
        for level, changed in by_level.items():
            changed.write({"trust": level})
        count = sum(len(changed) for changed in by_level.values())
        if len(self) == 1:
            return True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("Trust level changed for %(count)s customers.", count=count),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _followup_trust_figures_sql(self, company, today, partner_ids):
        """Return the query of the figures of ``followup_trust.TrustFigures`` of the customers, one
        row each: ``partner_id, invoices, paid, days_late, late_share, broken_promises,
        reminders_per_invoice``.

        The invoices are the customer invoices of the company (their receivable lines) due in
        the last 12 months up to today; one is paid when its receivable line is reconciled,
        on the latest date of its reconciliations; a reminder counts for each of its invoices.
        """
        since = today - timedelta(days=followup_trust.HISTORY_DAYS)
        receivable_ids = (
            self.env["account.account"]
            .sudo()  # ids only, to recognise the receivable lines of the company
            ._search([("account_type", "=", "asset_receivable"), ("non_trade", "=", False)])
        )
        return SQL(
            """
            WITH invoices AS (
                SELECT line.id, line.partner_id, line.move_id, line.balance, line.reconciled,
                       COALESCE(line.date_maturity, line.date) AS due
                  FROM account_move_line line
                  JOIN account_move move ON move.id = line.move_id
                 WHERE line.company_id = %(company)s
                   AND line.partner_id = ANY(%(partners)s)
                   AND line.account_id = ANY(ARRAY(%(receivable)s))
                   AND line.parent_state = 'posted'
                   AND move.move_type = 'out_invoice'
                   AND line.balance > 0
                   AND COALESCE(line.date_maturity, line.date) BETWEEN %(since)s AND %(today)s
            ), paid AS (
                SELECT invoices.partner_id, invoices.balance,
                       GREATEST(MAX(partial.max_date) - invoices.due, 0) AS days_late
                  FROM invoices
                  JOIN account_partial_reconcile partial ON partial.debit_move_id = invoices.id
                 WHERE invoices.reconciled
              GROUP BY invoices.id, invoices.partner_id, invoices.balance, invoices.due
            ), by_invoices AS (
                SELECT partner_id, COUNT(DISTINCT move_id) AS invoices FROM invoices GROUP BY partner_id
            ), by_paid AS (
                SELECT partner_id, COUNT(*) AS paid,
                       100.0 * COUNT(*) FILTER (WHERE days_late > 0) / COUNT(*) AS late_share,
                       COALESCE(SUM(balance * days_late) / NULLIF(SUM(balance), 0), 0) AS days_late
                  FROM paid
              GROUP BY partner_id
            ), by_reminders AS (
                SELECT moves.partner_id, COUNT(*) AS reminders
                  FROM (SELECT DISTINCT partner_id, move_id FROM invoices) AS moves
                  JOIN account_followup_reminder_move_rel rel ON rel.move_id = moves.move_id
                  JOIN account_followup_reminder reminder ON reminder.id = rel.reminder_id
                 WHERE reminder.company_id = %(company)s AND reminder.date <= %(today)s
              GROUP BY moves.partner_id
            ), by_promises AS (
                SELECT partner_id, COUNT(*) AS broken
                  FROM account_followup_promise
                 WHERE company_id = %(company)s AND partner_id = ANY(%(partners)s) AND state = 'broken'
                   AND date BETWEEN %(since)s AND %(today)s
              GROUP BY partner_id
            )
            SELECT partner.id,
                   COALESCE(by_invoices.invoices, 0),
                   COALESCE(by_paid.paid, 0),
                   COALESCE(by_paid.days_late, 0),
                   COALESCE(by_paid.late_share, 0),
                   COALESCE(by_promises.broken, 0),
                   COALESCE(by_reminders.reminders::numeric / NULLIF(by_invoices.invoices, 0), 0)
              FROM unnest(%(partners)s::int[]) AS partner(id)
         LEFT JOIN by_invoices ON by_invoices.partner_id = partner.id
         LEFT JOIN by_paid ON by_paid.partner_id = partner.id
         LEFT JOIN by_reminders ON by_reminders.partner_id = partner.id
         LEFT JOIN by_promises ON by_promises.partner_id = partner.id
            """,
            company=company.id,
            partners=list(partner_ids),
            receivable=receivable_ids.subselect(),
            since=since,
            today=today,
        )

    @api.model
    def _followup_trust_figures(self, company, partner_ids):
        """Return ``{partner_id: followup_trust.TrustFigures}`` of the customers (commercial
        entities) in the company, in one query."""
        if not partner_ids:
            return {}
        self.env["account.move.line"].flush_model(
            ["partner_id", "move_id", "balance", "reconciled", "date_maturity", "date", "company_id",
             "account_id", "parent_state"]
        )
        self.env["account.move"].flush_model(["move_type"])
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "max_date"])
        self.env["account.followup.reminder"].flush_model(["company_id", "date", "move_ids"])
        self.env["account.followup.promise"].flush_model(["partner_id", "company_id", "state", "date"])
        self.env.cr.execute(
            self._followup_trust_figures_sql(company, fields.Date.context_today(self), partner_ids)
        )
        return {
            partner_id: followup_trust.TrustFigures(*figures) for partner_id, *figures in self.env.cr.fetchall()
        }
