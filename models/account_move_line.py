from odoo import fields, models
from odoo.tools import SQL, index_exists


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # Core's "No Follow-up" flag is what excludes a line from follow-ups.
    blocked = fields.Boolean(
        string="Exclude from Follow-ups",
        help="Check this box to leave this invoice out of payment reminders, "
        "e.g. while it is disputed with the customer.",
    )
    followup_level_id = fields.Many2one(
        "account.followup.level",
        string="Follow-up Level",
        copy=False,
        readonly=True,
        ondelete="restrict",
        help="The last follow-up level sent for this line.",
    )
    followup_date = fields.Date(
        string="Latest Follow-up",
        copy=False,
        readonly=True,
        help="When the last reminder for this line was sent.",
    )

    # Late-payment charges: the lines of a charges invoice say what they charge, so that a
    # charge is never made twice and a cancelled charges invoice frees what it charged.
    followup_charged_line_id = fields.Many2one(
        "account.move.line",
        string="Charged Late Invoice",
        copy=False,
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The receivable line of the late invoice this line charges interest or compensation for.",
    )
    followup_charge_type = fields.Selection(
        selection=[
            ("interest", "Late-payment interest"),
            ("compensation", "Flat compensation"),
            ("fee", "Reminder fee"),
        ],
        string="Late-payment Charge",
        copy=False,
        readonly=True,
    )
    followup_charged_until = fields.Date(
        string="Interest Charged Until",
        copy=False,
        readonly=True,
        help="The last day of the interest this line charges.",
    )

    def init(self):
        """Extends `account` with the index of the follow-up aggregation.

        A partial, covering index of the open receivable lines: the WHERE of
        ``res.partner._followup_query_groups`` is its predicate and every column that
        query reads is in it, so the status of 100,000 customers is an index-only scan
        and one customer's a few index pages, whatever the size of the table.
        Payable lines also match (the account type is on the account): they are few
        next to the income and tax lines the predicate leaves out.
        """
        res = super().init()
        if not index_exists(self.env.cr, "account_move_line_followup_open_idx"):
            self.env.cr.execute(SQL(
                """
                CREATE INDEX account_move_line_followup_open_idx
                    ON account_move_line (company_id, partner_id)
               INCLUDE (account_id, followup_level_id, amount_residual, date_maturity, date, followup_date)
                 WHERE parent_state = 'posted'
                   AND reconciled IS NOT TRUE
                   AND blocked IS NOT TRUE
                   AND partner_id IS NOT NULL
                   AND amount_residual <> 0
                """
            ))
        return res

    def _followup_set_level(self, level_id, followup_date):
        """Record that the lines received a reminder of ``level_id`` on ``followup_date``.

        Written in SQL: these two fields are the addon's own bookkeeping, nothing
        depends on them, and the ORM write of posted journal items re-synchronises
        their whole invoices (a hundred queries per invoice), which the cron cannot
        afford for thousands of customers.
        """
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move_line
                   SET followup_level_id = %s, followup_date = %s, write_uid = %s, write_date = NOW() AT TIME ZONE 'UTC'
                 WHERE id = ANY(%s)
                """,
                level_id or None,
                followup_date or None,
                self.env.uid,
                self.ids,
            )
        )
        self.invalidate_recordset(["followup_level_id", "followup_date", "write_uid", "write_date"])
