"""The history of the payment reminders: one record per reminder sent, and what it achieved.

The sending pipeline (``account.followup.send``) creates the records of a batch at once,
with its chatter notes.  What happens afterwards is read from the database in SQL and
stored, refreshed by the daily run for the reminders it may still change:

* ``delivery_state``, from what the mail, SMS and snailmail queues report on the
  notifications of the reminder's messages (`_get_delivery_states`, reusable by whoever
  needs to know whether a reminder reached the customer), with the channel, the reason and
  the email address of a failure; a failure is also followed at once, when a queue reports
  it (`_followup_delivery_changed`, called by ``mail.notification``);
* ``paid_7d`` / ``paid_30d`` / ``paid_60d`` and ``payment_days``, from the reconciliations
  of the reminder's invoices (`_refresh_payment_effects`).
"""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL, format_date, html2plaintext

# Days after which a reminder's delivery is no longer looked at (bounces come within hours).
DELIVERY_WATCH_DAYS = 30
# The longest window of the payment effect: older reminders are final.
EFFECT_DAYS = 60
# The channels whose delivery a queue reports (the customer's "Reminder not delivered" too).
FAILURE_CHANNELS = [("email", "Email"), ("sms", "SMS"), ("snailmail", "By Post")]


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
    failure_channel = fields.Selection(
        FAILURE_CHANNELS,
        string="Failed Channel",
        readonly=True,
        help="The channel of the first email, SMS or letter of the reminder that failed.",
    )
    failure_type = fields.Selection(
        selection=lambda self: self.env["mail.notification"]._fields["failure_type"].selection,
        readonly=True,
    )
    failure_reason = fields.Char(readonly=True)
    failed_email = fields.Char(
        readonly=True,
        help="The email addresses the reminder bounced from or could not be sent to, comma-separated: "
        "the daily run does not email them again until the contact's email is changed.",
    )
    failure_date = fields.Datetime(
        string="Failure Known On",
        readonly=True,
        help="When the failure was first known: its note and activity are made then, once.",
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
        """Return the query of ``(reminder_id, state, channel, failure_type, failure_reason,
        failed_email)`` of the reminders matching ``where`` (on ``reminder``), as the queues
        report it now.

        Only the notifications of the customer's side count (email, SMS, letter), not the
        copies of the company's own users.  A reminder without any is left out.  The
        channel, type and reason are those of its first failed notification; the failed
        email, the addresses of all its failed emails.
        """
        self.env["mail.notification"].flush_model(
            ["mail_message_id", "notification_status", "notification_type", "res_partner_id",
             "failure_type", "failure_reason"]
        )
        self.env["res.partner"].flush_model(["email_normalized"])
        self.flush_model(["date", "message_ids"])
        return SQL(
            """
            SELECT rel.reminder_id,
                   CASE WHEN bool_or(notif.notification_status IN ('bounce', 'exception', 'canceled'))
                             THEN 'failed'
                        WHEN bool_and(notif.notification_status = 'sent') THEN 'delivered'
                        ELSE 'sent'
                   END AS state,
                   (array_agg(CASE notif.notification_type WHEN 'snail' THEN 'snailmail'
                                   ELSE notif.notification_type END ORDER BY notif.id)
                        FILTER (WHERE notif.notification_status IN ('bounce', 'exception', 'canceled')))[1]
                       AS channel,
                   (array_agg(notif.failure_type ORDER BY notif.id)
                        FILTER (WHERE notif.notification_status IN ('bounce', 'exception', 'canceled')))[1]
                       AS failure_type,
                   (array_agg(notif.failure_reason ORDER BY notif.id)
                        FILTER (WHERE notif.notification_status IN ('bounce', 'exception', 'canceled')))[1]
                       AS failure_reason,
                   string_agg(DISTINCT recipient.email_normalized, ',')
                       FILTER (WHERE notif.notification_status IN ('bounce', 'exception')
                               AND notif.notification_type = 'email') AS failed_email
              FROM account_followup_reminder reminder
              JOIN account_followup_reminder_message_rel rel ON rel.reminder_id = reminder.id
              JOIN mail_notification notif ON notif.mail_message_id = rel.message_id
         LEFT JOIN res_partner recipient ON recipient.id = notif.res_partner_id
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
        return {row[0]: row[1] for row in self.env.cr.fetchall()}

    @api.model
    def _refresh_delivery_states(self, reminder_ids=None):
        """Store the delivery state of reminders (default: those younger than
        `DELIVERY_WATCH_DAYS` days) as the queues report it, with what failed and why, in
        one query; then note each failure newly known (`_followup_notify_undelivered`)."""
        if reminder_ids is None:
            since = fields.Date.context_today(self) - timedelta(days=DELIVERY_WATCH_DAYS)
            where = SQL("reminder.date >= %s", since)
        else:
            where = SQL("reminder.id = ANY(%s)", list(reminder_ids))
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_followup_reminder reminder
                   SET delivery_state = states.state,
                       failure_channel = states.channel,
                       failure_type = states.failure_type,
                       failure_reason = states.failure_reason,
                       -- the address as it was when the failure was known (not the contact's new one)
                       failed_email = CASE WHEN states.state = 'failed'
                                           THEN COALESCE(old.failed_email, states.failed_email) END,
                       failure_date = COALESCE(old.failure_date,
                                               CASE WHEN states.state = 'failed' THEN %(now)s END)
                  FROM (%(states)s) states
                  JOIN account_followup_reminder old ON old.id = states.reminder_id
                 WHERE states.reminder_id = reminder.id
                   AND ((reminder.delivery_state, reminder.failure_channel, reminder.failure_type,
                         reminder.failure_reason)
                        IS DISTINCT FROM (states.state, states.channel, states.failure_type, states.failure_reason)
                        OR (reminder.failed_email IS NULL AND states.failed_email IS NOT NULL))
             RETURNING reminder.id, states.state = 'failed' AND old.failure_date IS NULL
                """,
                states=self._delivery_states_sql(where),
                now=fields.Datetime.now(),
            )
        )
        newly_failed = [reminder_id for reminder_id, new in self.env.cr.fetchall() if new]
        self.invalidate_model(
            ["delivery_state", "failure_channel", "failure_type", "failure_reason", "failed_email", "failure_date"]
        )
        if newly_failed:
            self._followup_notify_undelivered(self.browse(newly_failed))

    @api.model
    def _followup_delivery_changed(self, message_ids):
        """React at once to a queue reporting a failure on messages (``mail.notification``):
        refresh the reminders of these messages, if any (one query when there are none)."""
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT reminder_id FROM account_followup_reminder_message_rel WHERE message_id = ANY(%s)",
                list(message_ids),
            )
        )
        reminder_ids = [row[0] for row in self.env.cr.fetchall()]
        if reminder_ids:
            self._refresh_delivery_states(reminder_ids)

    @api.model
    def _followup_notify_undelivered(self, reminders):
        """Note on each customer that its reminder did not arrive, and give its follow-up
        responsible (in the reminder's company) an activity: once per failed reminder."""
        Send = self.env["account.followup.send"]
        for reminder in reminders:
            partner = reminder.partner_id.with_company(reminder.company_id)
            note = _(
                'The reminder "%(level)s" of %(date)s did not reach the customer by %(channel)s: %(reason)s',
                level=reminder.level_id.name or "",
                date=format_date(self.env, reminder.date),
                channel=reminder._get_failure_channel_label(),
                reason=reminder._get_failure_label(),
            )
            partner._message_log(body=note)
            Send.with_company(reminder.company_id)._schedule_followup_todo(
                partner, _("Reminder not delivered"), note, reminder.level_id
            )

    def _get_failure_channel_label(self):
        self.ensure_one()
        return dict(self._fields["failure_channel"]._description_selection(self.env)).get(self.failure_channel, "")

    def _get_failure_label(self):
        """Return why the reminder failed: the reason the queue gave, else the label of its
        failure type (Odoo's own wording)."""
        self.ensure_one()
        if self.failure_reason:
            # snailmail's reasons are HTML ("...<br>Error: ...")
            return html2plaintext(self.failure_reason)
        types = dict(self._fields["failure_type"]._description_selection(self.env))
        return types.get(self.failure_type) or _("Unknown error")

    @api.model
    def _followup_undelivered_sql(self, company, partner_ids=None):
        """Return the query of ``(partner_id, reminder_id)`` of the customers of the company
        whose last reminder with a known delivery failed (a later one delivered clears it)."""
        self.flush_model(["partner_id", "company_id", "date", "delivery_state"])
        partner_filter = SQL()
        if partner_ids is not None:
            partner_filter = SQL("AND reminder.partner_id = ANY(%s)", list(partner_ids))
        return SQL(
            """
            SELECT last.partner_id, last.id
              FROM (SELECT DISTINCT ON (reminder.partner_id) reminder.partner_id, reminder.id, reminder.delivery_state
                      FROM account_followup_reminder reminder
                     WHERE reminder.company_id = %(company)s
                       AND reminder.delivery_state IN ('failed', 'delivered')
                       %(partner_filter)s
                  ORDER BY reminder.partner_id, reminder.date DESC, reminder.id DESC) last
             WHERE last.delivery_state = 'failed'
            """,
            company=company.id,
            partner_filter=partner_filter,
        )

    @api.model
    def _get_followup_undelivered_emails(self, company):
        """Return ``{partner_id: {email}}``: the addresses the reminders of the company bounced
        from or could not be sent to, with no email reminder delivered since, in one query.
        The daily run does not email them again (see ``account.followup.send``)."""
        self.flush_model(["partner_id", "company_id", "date", "delivery_state", "email", "failed_email"])
        self.env.cr.execute(
            SQL(
                """
                SELECT reminder.partner_id, reminder.failed_email
                  FROM account_followup_reminder reminder
                 WHERE reminder.company_id = %(company)s
                   AND reminder.delivery_state = 'failed'
                   AND reminder.failed_email IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM account_followup_reminder later
                                    WHERE later.partner_id = reminder.partner_id
                                      AND later.company_id = reminder.company_id
                                      AND later.email AND later.delivery_state = 'delivered'
                                      AND (later.date, later.id) > (reminder.date, reminder.id))
                """,
                company=company.id,
            )
        )
        emails = {}
        for partner_id, failed in self.env.cr.fetchall():
            emails.setdefault(partner_id, set()).update(failed.split(","))
        return emails

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
                ), paid_in_full AS (
                    -- one row per reminder: not a sub-select per reminder over every line
                    SELECT reminder_id, BOOL_AND(reconciled) AS paid
                      FROM lines
                  GROUP BY reminder_id
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
                           CASE WHEN paid_in_full.paid THEN MAX(payments.days) END AS payment_days
                      FROM account_followup_reminder reminder
                 LEFT JOIN paid_in_full ON paid_in_full.reminder_id = reminder.id
                 LEFT JOIN payments ON payments.reminder_id = reminder.id
                     WHERE %(where)s
                  GROUP BY reminder.id, paid_in_full.paid
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
