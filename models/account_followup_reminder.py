"""The history of the payment reminders: one record per reminder sent, and what it achieved.

The sending pipeline (``account.followup.send``) creates the records of a batch at once,
with its chatter notes.  What happens afterwards is read from the database in SQL and
stored, refreshed by the daily run for the reminders it may still change:

* ``delivery_state``, from what the mail, SMS and snailmail queues report on the
  notifications of the reminder's messages (`_get_delivery_states`, reusable by whoever
  needs to know whether a reminder reached the customer);
* ``paid_7d`` / ``paid_30d`` / ``paid_60d`` and ``payment_days``, from the reconciliations
  of the reminder's invoices (`_refresh_payment_effects`).
"""

from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

# Days after which a reminder's delivery is no longer looked at (bounces come within hours).
DELIVERY_WATCH_DAYS = 30
# The longest window of the payment effect: older reminders are final.
EFFECT_DAYS = 60


class AccountFollowupReminder(models.Model):
    _name = "account.followup.reminder"
    _description = "Payment Reminder Sent"
    _order = "date desc, id desc"
    _rec_name = "level_id"

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    currency_id = fields.Many2one(related="company_id.currency_id")
    level_id = fields.Many2one(
        "account.followup.level", string="Follow-up Level", readonly=True, index=True, ondelete="set null"
    )
    date = fields.Date(required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", string="Sent By", readonly=True, help="Empty for the reminders the cron sent."
    )
    automatic = fields.Boolean(readonly=True, help="Sent by the daily run, by nobody in person.")
    email = fields.Boolean(readonly=True)
    sms = fields.Boolean(string="SMS", readonly=True)
    letter = fields.Boolean(string="By Post", readonly=True)
    printed = fields.Boolean(readonly=True)
    activity = fields.Boolean(readonly=True)
    move_ids = fields.Many2many(
        "account.move",
        "account_followup_reminder_move_rel",
        "reminder_id",
        "move_id",
        string="Invoices",
        readonly=True,
        help="The overdue invoices the reminder was about.",
    )
    message_ids = fields.Many2many(
        "mail.message",
        "account_followup_reminder_message_rel",
        "reminder_id",
        "message_id",
        string="Messages",
        readonly=True,
        help="The email, SMS and letter messages of the reminder, whose delivery is followed.",
    )
    amount_overdue = fields.Monetary(
        readonly=True, help="What the customer owed overdue when the reminder was sent (company currency)."
    )
    delivery_state = fields.Selection(
        [("sent", "Sent"), ("delivered", "Delivered"), ("failed", "Failed")],
        default="sent",
        required=True,
        readonly=True,
        index=True,
        help="Sent: handed to the mail, SMS or postal queue. Delivered: the queues report it delivered "
        "(reminders without email, SMS or letter are delivered at once). Failed: an email bounced or "
        "could not be sent, an SMS or a letter failed.",
    )
    paid_7d = fields.Monetary(string="Paid within 7 days", readonly=True)
    paid_30d = fields.Monetary(string="Paid within 30 days", readonly=True)
    paid_60d = fields.Monetary(string="Paid within 60 days", readonly=True)
    payment_days = fields.Float(
        string="Days until Paid",
        readonly=True,
        group_operator="avg",
        help="Days from the reminder until its invoices were paid in full (empty while they are not).",
    )

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    @api.model
    def _delivery_states_sql(self, where):
        """Return the query of ``(reminder_id, state)`` of the reminders matching ``where``
        (on ``reminder``), as the queues report it now.

        Only the notifications of the customer's side count (email, SMS, letter), not the
        copies of the company's own users.  A reminder without any is left out.
        """
        self.env["mail.notification"].flush_model(
            ["mail_message_id", "notification_status", "notification_type", "res_partner_id"]
        )
        self.flush_model(["date", "message_ids"])
        return SQL(
            """
            SELECT rel.reminder_id,
                   CASE WHEN bool_or(notif.notification_status IN ('bounce', 'exception', 'canceled'))
                             THEN 'failed'
                        WHEN bool_and(notif.notification_status = 'sent') THEN 'delivered'
                        ELSE 'sent'
                   END AS state
              FROM account_followup_reminder reminder
              JOIN account_followup_reminder_message_rel rel ON rel.reminder_id = reminder.id
              JOIN mail_notification notif ON notif.mail_message_id = rel.message_id
             WHERE %(where)s
               AND notif.notification_type IN ('email', 'sms', 'snail')
               AND NOT EXISTS (SELECT 1 FROM res_users usr
                                WHERE usr.partner_id = notif.res_partner_id AND NOT usr.share)
          GROUP BY rel.reminder_id
            """,
            where=where,
        )

    @api.model
    def _get_delivery_states(self, reminder_ids):
        """Return ``{reminder_id: "sent" | "delivered" | "failed"}`` as the mail, SMS and
        snailmail queues report it now, in one query (reminders without any message left out).

        The hook for whoever needs to know whether reminders reached their customer.
        """
        if not reminder_ids:
            return {}
        self.env.cr.execute(self._delivery_states_sql(SQL("reminder.id = ANY(%s)", list(reminder_ids))))
        return dict(self.env.cr.fetchall())

    @api.model
    def _refresh_delivery_states(self, reminder_ids=None):
        """Store the delivery state of reminders (default: those younger than
        `DELIVERY_WATCH_DAYS` days) as the queues report it, in one query."""
        if reminder_ids is None:
            since = fields.Date.context_today(self) - timedelta(days=DELIVERY_WATCH_DAYS)
            where = SQL("reminder.date >= %s", since)
        else:
            where = SQL("reminder.id = ANY(%s)", list(reminder_ids))
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_followup_reminder reminder
                   SET delivery_state = states.state
                  FROM (%(states)s) states
                 WHERE states.reminder_id = reminder.id AND reminder.delivery_state != states.state
                """,
                states=self._delivery_states_sql(where),
            )
        )
        self.invalidate_model(["delivery_state"])

    @api.model
    def _refresh_payment_effects(self, reminder_ids=None):
        """Store what was paid of the reminders' invoices within 7, 30 and 60 days, and the
        days until they were paid in full, in one query (default: the reminders younger than
        `EFFECT_DAYS` days, the only ones a payment can still change).

        A payment counts from its reconciliation date (the later date of the two lines),
        when it is on or after the reminder's date and was recorded after it; a partial
        payment counts by its amount; what is counted never exceeds the amount overdue at
        sending.  An invoice reminded twice counts for both reminders.
        """
        self.flush_model()
        self.env["account.partial.reconcile"].flush_model()
        self.env["account.move.line"].flush_model(["move_id", "reconciled", "account_id", "amount_residual"])
        if reminder_ids is None:
            since = fields.Date.context_today(self) - timedelta(days=EFFECT_DAYS + 1)
            where = SQL("reminder.date >= %s", since)
        else:
            where = SQL("reminder.id = ANY(%s)", list(reminder_ids))
        self.env.cr.execute(
            SQL(
                """
                WITH lines AS (
                    SELECT rel.reminder_id, line.id AS line_id, line.reconciled
                      FROM account_followup_reminder reminder
                      JOIN account_followup_reminder_move_rel rel ON rel.reminder_id = reminder.id
                      JOIN account_move_line line ON line.move_id = rel.move_id
                      JOIN account_account account ON account.id = line.account_id
                     WHERE %(where)s
                       AND account.account_type = 'asset_receivable'
                       AND line.balance > 0
                ), payments AS (
                    SELECT lines.reminder_id,
                           partial.amount,
                           GREATEST(partial.max_date - reminder.date, 0) AS days
                      FROM lines
                      JOIN account_followup_reminder reminder ON reminder.id = lines.reminder_id
                      JOIN account_partial_reconcile partial ON partial.debit_move_id = lines.line_id
                     WHERE partial.max_date >= reminder.date
                       AND partial.create_date >= reminder.create_date
                ), effects AS (
                    SELECT reminder.id,
                           LEAST(COALESCE(SUM(payments.amount) FILTER (WHERE payments.days <= 7), 0),
                                 reminder.amount_overdue) AS paid_7d,
                           LEAST(COALESCE(SUM(payments.amount) FILTER (WHERE payments.days <= 30), 0),
                                 reminder.amount_overdue) AS paid_30d,
                           LEAST(COALESCE(SUM(payments.amount) FILTER (WHERE payments.days <= 60), 0),
                                 reminder.amount_overdue) AS paid_60d,
                           CASE WHEN (SELECT bool_and(lines.reconciled) FROM lines
                                       WHERE lines.reminder_id = reminder.id)
                                THEN MAX(payments.days) END AS payment_days
                      FROM account_followup_reminder reminder
                 LEFT JOIN payments ON payments.reminder_id = reminder.id
                     WHERE %(where)s
                  GROUP BY reminder.id
                )
                UPDATE account_followup_reminder reminder
                   SET paid_7d = effects.paid_7d,
                       paid_30d = effects.paid_30d,
                       paid_60d = effects.paid_60d,
                       payment_days = effects.payment_days
                  FROM effects
                 WHERE effects.id = reminder.id
                   AND (reminder.paid_7d, reminder.paid_30d, reminder.paid_60d, reminder.payment_days)
                       IS DISTINCT FROM (effects.paid_7d, effects.paid_30d, effects.paid_60d, effects.payment_days)
                """,
                where=where,
            )
        )
        self.invalidate_model(["paid_7d", "paid_30d", "paid_60d", "payment_days"])

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _cron_refresh_reminders(self):
        """Refresh what the recent reminders achieved: their delivery and the payments since."""
        self._refresh_delivery_states()
        self._refresh_payment_effects()
