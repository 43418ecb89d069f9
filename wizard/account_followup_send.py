"""The Follow up wizard, and the sending pipeline it shares with the batch and the cron.

As `account.move.send` does for invoices: the wizard's ``@api.model`` methods take the
customers and the wizard, or ``None``.  With a wizard (``from_cron`` false) an error
stops everything and is shown to the user; without one (*Process follow-ups*, the cron)
each customer is sent on its own, and a failure is noted on it and retried at the next run.

A reminder goes through channels, each a pair an addon can inherit:
``_prepare_<channel>_values(reminder)`` returns what to send (``None``: the customer lacks
the contact details) and ``_send_<channel>(reminder, values)`` sends it; a new channel
adds its pair to `_get_followup_channels`.
"""

import logging
import threading
from collections import defaultdict

import psycopg2
import psycopg2.errors

from odoo import Command, _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..models import followup_rules, followup_sms

_logger = logging.getLogger(__name__)

# The first key of the advisory locks of the cron's steps done by one worker for all
# (`_cron_followup_step`); the second one tells the step (0: the refresh of the reminders,
# a company id: that company's policy of the day).
_CRON_LOCK = 1_786_320_417


class AccountFollowupSend(models.TransientModel):
    _name = "account.followup.send"
    _description = "Send a Payment Reminder"

    partner_ids = fields.Many2many(
        "res.partner",
        "account_followup_send_partner_rel",
        "wizard_id",
        "partner_id",
        string="Customers",
        required=True,
    )
    level_id = fields.Many2one(
        "account.followup.level",
        string="Follow-up Level",
        compute="_compute_level_id",
        store=True,
        readonly=False,
        domain="[('plan_id', '=', plan_id)]",
    )
    plan_id = fields.Many2one(
        "account.followup.plan",
        string="Follow-up Plan",
        compute="_compute_plan_id",
    )
    email = fields.Boolean(compute="_compute_from_level", store=True, readonly=False)
    email_recipient_ids = fields.Many2many(
        "res.partner",
        "account_followup_send_recipient_rel",
        "wizard_id",
        "partner_id",
        string="Recipients",
        compute="_compute_email_recipient_ids",
        store=True,
        readonly=False,
    )
    template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain=[("model", "=", "res.partner")],
        compute="_compute_from_level",
        store=True,
        readonly=False,
    )
    subject = fields.Char(compute="_compute_subject_body", store=True, readonly=False)
    body = fields.Html(compute="_compute_subject_body", store=True, readonly=False, sanitize_style=True)
    sms = fields.Boolean(string="SMS", compute="_compute_from_level", store=True, readonly=False)
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        domain=[("model", "=", "res.partner")],
        compute="_compute_from_level",
        store=True,
        readonly=False,
    )
    sms_body = fields.Text(string="SMS Message", compute="_compute_sms_body", store=True, readonly=False)
    print = fields.Boolean(help="Save the follow-up letter on the customer.")
    snailmail = fields.Boolean(string="By Post", compute="_compute_from_level", store=True, readonly=False)
    snailmail_cost = fields.Integer(string="Stamps", compute="_compute_snailmail_cost")
    snailmail_warning = fields.Char(compute="_compute_snailmail_cost")
    join_invoices = fields.Boolean(
        string="Attach Invoices", compute="_compute_from_level", store=True, readonly=False
    )
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "account_followup_send_attachment_rel",
        "wizard_id",
        "attachment_id",
        string="Attachments",
        compute="_compute_attachment_ids",
        store=True,
        readonly=False,
    )
    is_single = fields.Boolean(compute="_compute_is_single")

    # ------------------------------------------------------------
    # COMPUTE METHODS
    # ------------------------------------------------------------

    @api.depends("partner_ids")
    def _compute_is_single(self):
        for wizard in self:
            wizard.is_single = len(wizard.partner_ids) == 1

    @api.depends("partner_ids")
    def _compute_level_id(self):
        for wizard in self:
            wizard.level_id = wizard.partner_ids[:1].followup_level_id if wizard.is_single else False

    @api.depends("partner_ids")
    def _compute_plan_id(self):
        for wizard in self:
            wizard.plan_id = wizard.partner_ids[:1]._get_followup_plan() if wizard.is_single else False

    @api.depends("level_id")
    def _compute_from_level(self):
        for wizard in self:
            options = self._get_followup_level_options(wizard.level_id)
            wizard.email = options["email"]
            wizard.template_id = options["mail_template"]
            wizard.sms = options["sms"]
            wizard.sms_template_id = options["sms_template"]
            wizard.snailmail = options["snailmail"]
            wizard.join_invoices = options["join_invoices"]

    @api.depends("partner_ids")
    def _compute_email_recipient_ids(self):
        for wizard in self:
            partner = wizard.partner_ids._origin[:1]
            wizard.email_recipient_ids = partner._get_followup_email_recipients() if wizard.is_single else False

    @api.depends("partner_ids", "template_id")
    def _compute_subject_body(self):
        for wizard in self:
            partner = wizard.partner_ids._origin[:1]
            if wizard.is_single and wizard.template_id:
                email = self._render_followup_emails(wizard.template_id, partner.ids)[partner.id]
                wizard.subject = email["subject"]
                wizard.body = email["body"]
            else:
                wizard.subject = False
                wizard.body = False

    @api.depends("partner_ids", "sms_template_id")
    def _compute_sms_body(self):
        for wizard in self:
            partner = wizard.partner_ids._origin[:1]
            if wizard.is_single and wizard.sms_template_id:
                wizard.sms_body = self._render_followup_sms(wizard.sms_template_id, partner)
            else:
                wizard.sms_body = False

    @api.depends("partner_ids", "snailmail")
    def _compute_snailmail_cost(self):
        for wizard in self:
            partners = wizard.partner_ids._origin
            without_address = partners.filtered(lambda partner: not partner._get_followup_letter_recipients())
            wizard.snailmail_cost = sum(len(partner._get_followup_letter_recipients()) for partner in partners)
            wizard.snailmail_warning = (
                _(
                    "No valid postal address (street, city, zip, country) for: %(partners)s",
                    partners=", ".join(without_address.mapped("display_name")),
                )
                if wizard.snailmail and without_address
                else False
            )

    @api.depends("partner_ids", "join_invoices")
    def _compute_attachment_ids(self):
        for wizard in self:
            partner = wizard.partner_ids._origin[:1]
            if wizard.is_single and wizard.join_invoices:
                wizard.attachment_ids = self._get_followup_invoice_attachments(
                    self._get_followup_invoices(partner._get_followup_owed_lines())
                )
            else:
                wizard.attachment_ids = False

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_send(self):
        """Send the reminder of each customer through the chosen channels."""
        self.ensure_one()
        self._process_followups(self.partner_ids.commercial_partner_id, wizard=self)
        return {"type": "ir.actions.act_window_close"}

    def action_open_followup_promise(self):
        """Record a promise to pay of the customer instead of reminding it."""
        self.ensure_one()
        return self.partner_ids[:1].action_open_followup_promise()

    def action_send_and_print(self):
        """Send the reminders, then download the follow-up letter."""
        self.ensure_one()
        results = self._process_followups(
            self.partner_ids.commercial_partner_id, wizard=self, options={"print": True}
        )
        letters = results["letters"]
        if len(letters) == 1:
            return {
                "type": "ir.actions.act_url",
                "url": f"/web/content/{letters.id}?download=true",
                "close": True,
            }
        return self.env.ref("account_payment_followup.action_report_followup").report_action(self.partner_ids)

    # ------------------------------------------------------------
    # OPTIONS
    # ------------------------------------------------------------

    def _get_wizard_values(self):
        """Return the options of `_process_followups` the wizard was filled with."""
        self.ensure_one()
        options = {"manual": True, "force_send": True, "print": self.print}
        if self.is_single:
            options.update({
                "level": self.level_id,
                "email": self.email,
                "mail_template": self.template_id,
                "email_recipients": self.email_recipient_ids,
                "subject": self.subject,
                "body": self.body,
                "sms": self.sms,
                "sms_template": self.sms_template_id,
                "sms_body": self.sms_body,
                "snailmail": self.snailmail,
                "join_invoices": self.join_invoices,
                "attachments": self.attachment_ids,
            })
        return options

    @api.model
    def _get_followup_level_options(self, level):
        """Return the channels and templates a level sends by (the wizard starts from them)."""
        return {
            "email": level.send_email,
            "mail_template": level.mail_template_id,
            "sms": level.send_sms,
            "sms_template": level.sms_template_id,
            "snailmail": level.send_letter,
            "join_invoices": level.join_invoices,
            "activity": level.create_activity and bool(level.activity_type_id),
        }

    @api.model
    def _prepare_followup_options(self, level, options):
        """Complete the options of a reminder with the settings of its level.

        Keys: those of `_get_followup_level_options`, ``email_recipients`` (res.partner,
        ``None``: the follow-up contacts), ``subject``/``body``/``email_from`` (``None``:
        rendered from the template), ``sms_body``, ``print``, ``attachments``
        (ir.attachment, ``None``: the PDFs of the owed invoices), ``manual`` (send even
        when the customer is not in need of action), ``force_send`` (send emails now
        rather than through the mail queue).  ``level`` (account.followup.level) chooses
        the level rather than the customer's own.
        """
        return {
            **self._get_followup_level_options(level),
            "email_recipients": None,
            "subject": None,
            "body": None,
            "email_from": None,
            "sms_body": None,
            "print": False,
            "attachments": None,
            "manual": False,
            "force_send": False,
            **{key: value for key, value in options.items() if key != "level"},
        }

    # ------------------------------------------------------------
    # BATCH: LOCK, PREPARE, SEND EACH CUSTOMER, LOG
    # ------------------------------------------------------------

    @api.model
    def _process_followups(self, partners, wizard=None, options=None):
        """Send the reminders of the customers (commercial partners), each one on its own.

        :param wizard: the Follow up wizard the user filled, or ``None`` (*Process
            follow-ups*, the cron): with a wizard, any error stops everything and is shown
            to the user; without one (``from_cron``), a customer another runner holds is
            skipped, and an error rolls back that customer only, is logged, noted on the
            customer and retried at the next run
        :param dict options: see `_prepare_followup_options`, merged over the wizard's
        :return: ``{"sent", "missing", "failed": res.partner, "skipped": {partner_id:
            reason}, "letters": ir.attachment}``
        """
        from_cron = not wizard
        options = {**(wizard._get_wizard_values() if wizard else {}), **(options or {})}
        self._check_followup_send_access()
        Partner = self.env["res.partner"]
        results = {
            "sent": Partner, "missing": Partner, "failed": Partner, "skipped": {},
            "letters": self.env["ir.attachment"],
        }
        locked = set(self._lock_followup_partners(partners.ids))
        if not from_cron and len(locked) != len(partners):
            raise UserError(
                _(
                    "%(partners)s are being reminded by another user: try again in a moment.",
                    partners=", ".join(partners.filtered(lambda p: p.id not in locked).mapped("display_name")),
                )
            )
        batch = self._prepare_followup_batch(partners.filtered(lambda partner: partner.id in locked), options)
        logs = []
        # in a batch, the partners with a browser to notify are read once (see `_send_email`)
        sender = self.with_context(followup_push_partner_ids=self._get_followup_push_partner_ids()) \
            if from_cron else self
        for partner in partners:
            if partner.id not in locked:
                results["skipped"][partner.id] = _(
                    "%(partner)s is being reminded by another process.", partner=partner.display_name
                )
                continue
            if not from_cron:
                result = sender._execute_followup(partner, options, batch=batch)
                if result["status"] != "sent":
                    raise UserError(result["reason"])
            else:
                try:
                    with self.env.cr.savepoint():
                        result = sender._execute_followup(partner, options, batch=batch)
                except psycopg2.OperationalError:
                    raise  # concurrency: let the whole transaction be retried
                except Exception as error:  # noqa: BLE001 one customer must not stop the others
                    _logger.exception("Follow-up of partner %s failed", partner.id)
                    self._hook_followup_failure(partner, error)
                    results["failed"] |= partner
                    continue
            if result["status"] == "sent":
                results["sent"] |= partner
                logs.append(result["log"])
            elif result["status"] == "skipped":
                results["skipped"][partner.id] = result["reason"]
            if result["missing"]:
                results["missing"] |= partner
            results["letters"] |= result["letter"]
        self._write_followup_logs(logs, failed_ids=batch["failed"])
        return results

    @api.model
    def _get_followup_push_partner_ids(self):
        """Return the ids of the partners with a browser to notify of new messages (a few
        internal users): Odoo's search of the devices of every message's recipients, done
        once for a batch of reminders (see res.partner's `_notify_thread_by_web_push`)."""
        # sudo as mail does: the devices are nobody's to read
        devices = self.env["mail.partner.device"].sudo()
        return frozenset(partner.id for [partner] in devices._read_group([], ["partner_id"]))

    @api.model
    def _process_followup_run(self, partners):
        """Send the reminders of *Process follow-ups* and leave the record of its run."""
        results = self._process_followups(partners)
        self.env["account.followup.run"]._record_followup_run([results])
        return results

    @api.model
    def _check_followup_send_access(self):
        """Refuse at once a user who may not record reminders (billing users may).

        A reminder writes the level of the receivable lines and the customer's next
        reminder date: without these rights every customer would fail on its own.
        """
        self.env["account.move.line"].check_access_rights("write")
        self.env["res.partner"].check_access_rights("write")

    @api.model
    def _lock_followup_partners(self, partner_ids):
        """Lock customers for this transaction; return those no other runner holds.

        The rows are also touched: a runner whose snapshot predates our commit then
        fails to lock them (serialization error) instead of deciding from stale data.
        """
        if not partner_ids:
            return []
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner SET write_date = write_date
                 WHERE id IN (SELECT id FROM res_partner WHERE id = ANY(%s) ORDER BY id FOR UPDATE SKIP LOCKED)
             RETURNING id
                """,
                list(partner_ids),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _prepare_followup_batch(self, partners, options=None):
        """Decide the customers and make ready at once what their reminders need.

        Each customer is decided here, once, as it is now that it is locked (an invoice
        paid in this transaction is never reminded of): its level, its options, its owed
        lines and the lines the reminder steps up.  Then what would otherwise be repeated
        customer by customer: the payment tokens of their invoices, the invoice PDFs never
        printed yet (one report run for the whole batch) and the emails of their levels
        (each template rendered once for all the customers using it).  Whatever fails in
        that second part is left to each customer's own reminder, which then fails or
        succeeds alone.

        :return: ``{"reminders": {partner_id: reminder}, "skipped": {partner_id: reason},
            "emails": {(partner_id, template_id): values of `_render_followup_emails`
            with ``post_values``}, "failed": {partner_id whose last reminder failed}}``;
            a reminder is ``{"partner", "level", "options", "owed_lines", "lines"}``
        """
        options = options or {}
        batch = {"reminders": {}, "skipped": {}, "emails": {}, "failed": set()}
        if not partners:
            return batch
        Partner = self.env["res.partner"]
        Level = self.env["account.followup.level"]
        # read the lines afresh, as they are now that the customers are locked
        self.env["account.move.line"].invalidate_model()
        partners.invalidate_recordset()
        decisions, batch["failed"] = Partner._followup_decide_with_failures(partners.ids)
        company = self.env.company
        in_need = partners.filtered(
            lambda partner: options.get("manual")
            or partner.id in decisions and decisions[partner.id].status == followup_rules.STATUS_IN_NEED
        )
        # the open lines (the items of the emails' tables), of which the owed ones are reminded of
        open_lines = in_need._get_followup_open_lines()
        open_lines.fetch(["partner_id", "amount_residual", "date", "date_maturity", "followup_level_id",
                          "followup_date", "currency_id", "amount_residual_currency", "move_id"])
        owed_lines = open_lines.filtered(lambda line: line.amount_residual > 0)
        owed_by_partner = defaultdict(list)
        for line in owed_lines:
            owed_by_partner[line.partner_id.id].append(line.id)
        today = fields.Date.context_today(self)
        for partner in partners:
            if partner not in in_need:
                batch["skipped"][partner.id] = _("%(partner)s needs no reminder today.", partner=partner.display_name)
                continue
            decision = decisions.get(partner.id)
            level = options.get("level") or Level.browse(decision.level_id if decision else False)
            owed = owed_lines.browse(owed_by_partner[partner.id])
            if not level or not owed:
                batch["skipped"][partner.id] = _(
                    "%(partner)s has no open invoice to remind of.", partner=partner.display_name
                )
                continue
            batch["reminders"][partner.id] = {
                "partner": partner,
                "level": level,
                "options": self._prepare_followup_options(level, options),
                "owed_lines": owed,
                # the ladder of the level's plan, the customer's (see `_mark_followup_sent`)
                "lines": self._get_followup_reminded_lines(owed, Level._get_ladder(company, level.plan_id.id), today),
            }
        reminders = list(batch["reminders"].values())
        open_lines.move_id.fetch(["name", "move_type", "invoice_date", "invoice_origin", "payment_reference", "ref",
                                  "access_token", "invoice_pdf_report_id"])
        invoices = owed_lines.move_id
        Report = self.env["report.account_payment_followup.report_followup"]
        if Report._followup_can_pay_online():
            invoices.filtered(lambda move: move.move_type == "out_invoice")._followup_ensure_access_tokens()
        # the link of the customer's page, in every reminder: the tokens of the batch at once
        Partner.browse(list(batch["reminders"]))._followup_ensure_portal_tokens()
        open_by_partner = defaultdict(list)
        for line in open_lines:
            open_by_partner[line.partner_id.id].append(line.id)
        Report._followup_set_batch_values(
            open_lines=open_by_partner, charges=self._get_followup_batch_charges(reminders, decisions, today)
        )
        try:
            self._prepare_followup_batch_emails(batch, reminders)
        finally:
            Report._followup_set_batch_values()
        attach = [
            reminder for reminder in reminders
            if reminder["options"]["join_invoices"] and reminder["options"]["email"]
            and reminder["options"]["attachments"] is None
        ]
        missing = self._get_followup_invoices(
            self.env["account.move.line"].union(*(reminder["owed_lines"] for reminder in attach))
        ).filtered(lambda move: not move.invoice_pdf_report_id)
        if missing:
            try:
                with self.env.cr.savepoint():
                    self._render_invoice_pdfs(missing)
            except Exception:  # noqa: BLE001 each customer's own reminder reports it
                _logger.warning("Invoice PDFs of a follow-up batch: rendered customer by customer", exc_info=True)
            missing.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
        return batch

    @api.model
    def _get_followup_batch_charges(self, reminders, decisions, today):
        """Return the late-payment charges the emails of a batch show: ``{partner id: (level,
        charges)}`` for the customers whose level (as decided, the one the items table shows
        the charges of) charges; one query per such level for the whole batch."""
        company = self.env.company
        Level = self.env["account.followup.level"]
        if not Level._get_charging_level_ids(company.id):
            return {}
        by_level = defaultdict(list)
        for reminder in reminders:
            partner_id = reminder["partner"].id
            decision = decisions.get(partner_id)
            level = Level.browse(decision.level_id if decision else False)
            if reminder["options"]["email"] and level and level.late_charges != "none":
                by_level[level].append(partner_id)
        result = {}
        Charges = self.env["account.followup.charges"]
        for level, partner_ids in by_level.items():
            charges = Charges._get_late_charges(self.env["res.partner"].browse(partner_ids), company, today, level)
            result.update({partner_id: (level, charges.get(partner_id)) for partner_id in partner_ids})
        return result

    @api.model
    def _prepare_followup_batch_emails(self, batch, reminders):
        """Render at once the emails of the reminders whose subject and body are not given,
        with the values `message_post` would look up customer by customer."""
        by_template = defaultdict(list)
        for reminder in reminders:
            options = reminder["options"]
            if options["email"] and options["mail_template"] and options["body"] is None:
                by_template[options["mail_template"]].append(reminder["partner"].id)
        if not by_template:
            return
        Partner = self.env["res.partner"]
        emailed = Partner.browse([partner_id for ids in by_template.values() for partner_id in ids])
        # sudo as message_post does: the alias domain of a company the user may not read
        alias_domains = emailed.sudo()._mail_get_alias_domains(default_company=self.env.company)
        companies = emailed._mail_get_companies(default=self.env.company)
        for template, partner_ids in by_template.items():
            try:
                with self.env.cr.savepoint():
                    emails = self._render_followup_emails(template, partner_ids)
            except Exception:  # noqa: BLE001 each customer's own reminder reports it
                _logger.info("Follow-up template %s: rendered customer by customer", template.id, exc_info=True)
                continue
            by_sender = defaultdict(list)
            for partner in Partner.browse(partner_ids):
                sender = emails[partner.id]["email_from"] or partner._get_followup_author().email_formatted
                by_sender[sender].append(partner.id)
            reply_tos = {}
            for sender, sender_ids in by_sender.items():
                reply_tos.update(Partner.browse(sender_ids)._notify_get_reply_to(default=sender))
            for partner_id in partner_ids:
                batch["emails"][(partner_id, template.id)] = {
                    **emails[partner_id],
                    "post_values": {
                        "reply_to": reply_tos[partner_id],
                        "record_alias_domain_id": alias_domains[partner_id].id,
                        "record_company_id": companies[partner_id].id,
                    },
                }

    @api.model
    def _get_followup_reminded_lines(self, owed_lines, ladder, today):
        """Return the owed lines a reminder sent today steps up: those the rules say are due,
        else (sent by hand before the rules ask for it) the overdue ones."""
        due = owed_lines.filtered(
            lambda line: followup_rules.line_is_due(
                ladder,
                line.followup_level_id.delay if line.followup_level_id else None,
                line.date_maturity or line.date,
                line.followup_date,
                today,
            )
        )
        return due or owed_lines.filtered(lambda line: (line.date_maturity or line.date) <= today)

    @api.model
    def _execute_followup(self, partner, options=None, batch=None):
        """Send the reminder of one customer through each channel, then record it.

        A channel the customer has no contact details for is reported, not silently
        dropped; when nothing at all could go out, nothing is marked as sent.

        :param dict options: see `_prepare_followup_options`
        :param dict batch: what `_prepare_followup_batch` decided and made ready for this
            customer and others; with a batch, the caller writes the ``log`` of the result
            (`_write_followup_logs`)
        :return: ``{"status": "sent" | "skipped" | "nothing_sent", "level": level,
            "channels": [names], "missing": [names], "reason": str, "letter": ir.attachment,
            "sent": {channel: what its ``_send_<channel>`` returned}, "log": see
            `_mark_followup_sent`, with the ``reminder`` history record to create (when sent)}``
        """
        own_batch = batch is None
        if own_batch:
            batch = self._prepare_followup_batch(partner, options)
        reminder = batch["reminders"].get(partner.id)
        result = {
            "status": "skipped",
            "level": reminder["level"] if reminder else self.env["account.followup.level"],
            "channels": [],
            "missing": [],
            "reason": batch["skipped"].get(partner.id, ""),
            "letter": self.env["ir.attachment"],
            "sent": {},
        }
        if not reminder:
            return result
        reminder.update(batch=batch, letter=self.env["ir.attachment"])
        for channel, (prepare, send) in self._get_followup_channels().items():
            if not reminder["options"][channel]:
                continue
            values = prepare(reminder)
            if values is None:
                result["missing"].append(channel)
                continue
            result["sent"][channel] = send(reminder, values)
            result["channels"].append(channel)
        result["letter"] = reminder["letter"]
        level = reminder["level"]
        if result["missing"]:
            self._notify_followup_missing(partner, level, result["missing"], nothing_sent=not result["channels"])
            if not result["channels"]:
                return self._hook_followup_nothing_sent(partner, result)
        result["log"] = self._mark_followup_sent(partner, level, reminder["lines"], result["channels"])
        result["log"]["reminder"] = self._prepare_followup_reminder_values(reminder, result)
        if level.late_charges == "invoice":
            result["charges_invoice"] = self.env["account.followup.charges"]._create_charges_invoice(partner, level)
        if own_batch:
            self._write_followup_logs([result["log"]], failed_ids=batch["failed"])
        result["status"] = "sent"
        return result

    @api.model
    def _hook_followup_nothing_sent(self, partner, result):
        """Report a reminder nothing could be sent of; an automatic one waits until tomorrow
        (nobody is there to complete the contact details before the next run)."""
        result["status"] = "nothing_sent"
        result["reason"] = _(
            "Nothing could be sent to %(partner)s: contact details are missing.",
            partner=partner.display_name,
        )
        if partner._followup_sent_automatically():
            partner.followup_next_action_date = fields.Date.add(fields.Date.context_today(self), days=1)
        return result

    @api.model
    def _hook_followup_failure(self, partner, error):
        """Show on the customer that its reminder failed, until one is sent.

        Not postponed: the next run (the cron again, *Process follow-ups*) tries it once
        more, after the other customers, so that a fixed cause (a template, a mail
        server) sends it the same day.
        """
        note = _("The payment reminder could not be sent: %(error)s", error=str(error))
        partner._message_log(body=note)
        self._schedule_followup_todo(partner, _("Payment reminder failed"), note)
        partner.followup_failed = True

    @api.model
    def _write_followup_logs(self, logs, failed_ids=()):
        """Step the lines up, record the reminders sent (``account.followup.reminder``), set
        the next reminder dates and write the chatter notes, at once; clear the failure of the customers whose
        reminder failed before.

        :param list logs: what `_mark_followup_sent` returned, one per customer
        :param failed_ids: the customers whose last reminder had failed
        """
        Partner = self.env["res.partner"]
        # the lines stepped up, one UPDATE per level for the whole batch
        by_level = defaultdict(list)
        for log in logs:
            for level_id, line_ids in log.get("levels", {}).items():
                by_level[level_id].extend(line_ids)
        today = fields.Date.context_today(self)
        for level_id, line_ids in by_level.items():
            self.env["account.move.line"].browse(line_ids)._followup_set_level(level_id, today)
        reminders = [log["reminder"] for log in logs if log.get("reminder")]
        if reminders:
            self.env["account.followup.reminder"].create(reminders)
        by_date = defaultdict(list)
        for log in logs:
            by_date[log["next_date"]].append(log["partner_id"])
        for next_date, partner_ids in by_date.items():
            # not tracked: the note tells the next date along with the reminder
            Partner.browse(partner_ids).with_context(mail_notrack=True).followup_next_action_date = next_date
        if logs:
            Partner.browse([log["partner_id"] for log in logs])._message_log_batch(
                bodies={log["partner_id"]: log["note"] for log in logs}
            )
        move_notes = {}
        for log in logs:
            move_notes.update(log["move_notes"])
        if move_notes:
            # notes only, no notification: the rights on the invoices were checked by the search
            self.env["account.move"].browse(list(move_notes))._message_log_batch(bodies=move_notes)
        recovered = Partner.browse([log["partner_id"] for log in logs if log["partner_id"] in failed_ids])
        if recovered:
            recovered.followup_failed = False
            self._get_followup_todos(recovered, _("Payment reminder failed")).action_done()

    @api.model
    def _get_followup_reminder_channel_fields(self):
        """Return the field of ``account.followup.reminder`` telling each channel was used."""
        return {"email": "email", "sms": "sms", "snailmail": "letter", "print": "printed", "activity": "activity"}

    @api.model
    def _prepare_followup_reminder_values(self, reminder, result):
        """Return the values of the history record of a reminder sent (`_write_followup_logs`
        creates those of a batch at once): its channels, its overdue invoices and amount, and
        the messages whose delivery the queues report."""
        partner = reminder["partner"]
        today = fields.Date.context_today(self)
        overdue = reminder["owed_lines"].filtered(lambda line: (line.date_maturity or line.date) < today)
        messages = self.env["mail.message"]
        for sent in result["sent"].values():
            if isinstance(sent, models.BaseModel) and sent._name == "mail.message":
                messages |= sent
            elif isinstance(sent, models.BaseModel) and sent._name == "snailmail.letter":
                messages |= sent.message_id
        automatic = partner._followup_sent_automatically()
        channel_fields = self._get_followup_reminder_channel_fields()
        return {
            "partner_id": partner.id,
            "company_id": self.env.company.id,
            "level_id": reminder["level"].id,
            "date": today,
            "user_id": False if automatic else self.env.user.id,
            "automatic": automatic,
            **{fname: channel in result["channels"] for channel, fname in channel_fields.items()},
            "move_ids": [Command.set((overdue or reminder["lines"]).move_id.ids)],
            "amount_overdue": sum(overdue.mapped("amount_residual")),
            "message_ids": [Command.set(messages.ids)],
            # nothing went through a queue (printed, activity): nothing to wait for
            "delivery_state": "sent" if messages else "delivered",
        }

    @api.model
    def _mark_followup_sent(self, partner, level, lines, channels):
        """Step the lines up the ladder; return what `_write_followup_logs` writes.

        :return: ``{"partner_id", "next_date", "note", "move_notes": {move id: note},
            "levels": {level id: [ids of the lines stepped up to it]}}``
        """
        today = fields.Date.context_today(self)
        # the ladder of the level's plan: the customer's (the wizard offers the levels of its plan)
        ladder = self.env["account.followup.level"]._get_ladder(self.env.company, level.plan_id.id)
        by_level = defaultdict(list)
        for line in lines:
            following = followup_rules.next_level(
                ladder, line.followup_level_id.delay if line.followup_level_id else None
            )
            by_level[following.id].append(line.id)
        next_date = followup_rules.next_reminder_date(ladder, level.id, today)
        note_values = {
            "level": level.name,
            "channels": self._get_followup_channel_names(channels),
            "date": tools.format_date(self.env, today),
        }
        if partner._followup_sent_automatically():
            move_note = _('Payment reminder "%(level)s" sent automatically by %(channels)s on %(date)s.', **note_values)
        else:
            move_note = _(
                'Payment reminder "%(level)s" sent by %(channels)s on %(date)s by %(user)s.',
                user=self.env.user.name,
                **note_values,
            )
        return {
            "partner_id": partner.id,
            "next_date": next_date,
            "note": _(
                'Reminder "%(level)s" sent by %(channels)s. Next reminder on %(date)s.',
                **dict(note_values, date=tools.format_date(self.env, next_date)),
            ),
            "move_notes": {move.id: move_note for move in lines.move_id},
            # the lines each level steps up to: written for the whole batch (`_write_followup_logs`)
            "levels": dict(by_level),
        }

    # ------------------------------------------------------------
    # CHANNELS
    # ------------------------------------------------------------

    @api.model
    def _get_followup_channels(self):
        """Return the channels of a reminder, in the order it goes through them.

        ``{name: (prepare, send)}``; the name is also the key of the option that turns the
        channel on.  Extend it to add a channel (and its label, `_get_followup_channel_labels`).
        """
        return {
            "email": (self._prepare_email_values, self._send_email),
            "sms": (self._prepare_sms_values, self._send_sms),
            "snailmail": (self._prepare_snailmail_values, self._send_snailmail),
            "print": (self._prepare_print_values, self._send_print),
            "activity": (self._prepare_activity_values, self._send_activity),
        }

    @api.model
    def _get_followup_channel_labels(self):
        return {
            "email": _("email"),
            "sms": _("SMS"),
            "snailmail": _("letter by post"),
            "print": _("printed letter"),
            "activity": _("activity"),
        }

    @api.model
    def _get_followup_channel_names(self, channels):
        labels = self._get_followup_channel_labels()
        return ", ".join(labels[channel] for channel in channels) or _("no channel")

    @api.model
    def _render_followup_emails(self, template, partner_ids):
        """Render the email of a template for customers: ``{partner_id: {"subject", "body",
        "email_from"}}``, each in the customer's language."""
        subjects, bodies = {}, {}
        # the customers' languages rendered once for the subject and the body (what
        # ``compute_lang=True`` does for each of them: Odoo's `_classify_per_lang`)
        for localized, lang_ids in template._classify_per_lang(partner_ids).values():
            subjects.update(localized._render_field("subject", lang_ids))
            # one compilation of the body for all the customers (see models/mail_render_mixin.py)
            bodies.update(localized.with_context(followup_compile_once=True)._render_field(
                "body_html", lang_ids, options={"post_process": True}
            ))
        emails_from = template._render_field("email_from", partner_ids)
        return {
            partner_id: {
                "subject": subjects[partner_id],
                "body": bodies[partner_id],
                "email_from": emails_from[partner_id],
            }
            for partner_id in partner_ids
        }

    @api.model
    def _render_followup_sms(self, template, partner):
        """Render the SMS of the customer, in GSM-7 when its language allows it: the
        no-break spaces of the amounts would make it Unicode, and cost one SMS more."""
        body = template._render_field("body", partner.ids, compute_lang=True)[partner.id]
        return followup_sms.to_gsm7_spaces(body)

    @api.model
    def _prepare_email_values(self, reminder):
        """Return the values of the reminder email, or ``None`` when nobody can receive it."""
        partner, options = reminder["partner"], reminder["options"]
        template = options["mail_template"]
        recipients = self._get_followup_email_recipients(reminder)
        if not recipients or not (template or options["body"]):
            return None
        email = {key: options[key] for key in ("subject", "body", "email_from")}
        if options["subject"] is None and options["body"] is None:
            # the email the batch rendered for this customer, else rendered now
            email = reminder["batch"]["emails"].get((partner.id, template.id)) or {}
            if not email:
                email = self._render_followup_emails(template, partner.ids)[partner.id]
        elif template and None in email.values():
            rendered = self._render_followup_emails(template, partner.ids)[partner.id]
            email = {key: rendered[key] if value is None else value for key, value in email.items()}
        post_values = dict(email.get("post_values") or {})
        if template:
            if email["email_from"]:
                post_values["email_from"] = email["email_from"]
            post_values["mail_server_id"] = template.mail_server_id.id
        attachments = self.env["ir.attachment"]
        if options["join_invoices"]:
            attachments = options["attachments"]
            if attachments is None:
                attachments = self._get_followup_invoice_attachments(
                    self._get_followup_invoices(reminder["owed_lines"])
                )
        return {
            "partner_ids": recipients.ids,
            "subject": email["subject"],
            "body": email["body"],
            # copies linked to the message: the invoices keep their own PDF
            "attachments": [(attachment.name, attachment.raw) for attachment in attachments],
            "force_send": options["force_send"],
            **post_values,
        }

    @api.model
    def _get_followup_email_recipients(self, reminder):
        """Return the contacts the reminder email goes to.  The daily run leaves out the
        addresses of the customer a reminder did not reach (option ``undelivered_emails``,
        ``{partner_id: {email}}``): they wait for a person to fix them (the run lists the
        customer as missing contact details); a changed email goes again."""
        partner, options = reminder["partner"], reminder["options"]
        recipients = partner._get_followup_email_recipients(options["email_recipients"])
        failed = (options.get("undelivered_emails") or {}).get(partner.id)
        if failed:
            recipients = recipients.filtered(lambda contact: contact.email_normalized not in failed)
        return recipients

    @api.model
    def _send_email(self, reminder, values):
        """Post the reminder in the customer's chatter and email it to its recipients."""
        values = dict(values)
        poster, author = self._get_followup_poster(reminder["partner"])
        return poster.with_context(
            mail_notify_force_send=values.pop("force_send"),
            followup_push_partner_ids=self.env.context.get("followup_push_partner_ids"),
        ).message_post(
            # the sender (no search of a partner by email, as the mail composer does)
            author_id=author.id,
            # a new message tracks no change: Odoo then does not search its tracking values
            tracking_value_ids=[],
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
            mail_auto_delete=False,
            **values,
        )

    @api.model
    def _prepare_sms_values(self, reminder):
        """Return the values of the reminder SMS, or ``None`` when nobody can receive it."""
        partner, options = reminder["partner"], reminder["options"]
        recipients = partner._get_followup_sms_recipients()
        if not recipients or not (options["sms_template"] or options["sms_body"]):
            return None
        return {
            "body": options["sms_body"] or self._render_followup_sms(options["sms_template"], partner),
            "partner_ids": recipients.ids,
        }

    @api.model
    def _send_sms(self, reminder, values):
        """Queue the reminder SMS to its recipients (mobile, else phone)."""
        poster, author = self._get_followup_poster(reminder["partner"])
        return poster._message_sms(values["body"], partner_ids=values["partner_ids"], put_in_queue=True,
                                   author_id=author.id)

    @api.model
    def _get_followup_poster(self, partner):
        """Return the customer to post a reminder on, and its author (`_get_followup_author`).

        The author of a message follows the customer from then on, to get the replies;
        not the company itself, which would get a copy of every message of every customer.
        """
        author = partner._get_followup_author()
        if author == self.env.company.partner_id:
            return partner.with_context(mail_create_nosubscribe=True), author
        return partner, author

    @api.model
    def _prepare_snailmail_values(self, reminder):
        """Return the letters to post, one per address, or ``None`` without a valid address."""
        partner = reminder["partner"]
        recipients = partner._get_followup_letter_recipients()
        if not recipients:
            return None
        letter = self._get_followup_letter(reminder)
        return {
            "letters": [self._prepare_snailmail_letter_values(partner, recipient, letter) for recipient in recipients],
        }

    @api.model
    def _prepare_snailmail_letter_values(self, partner, recipient, attachment):
        return {
            "partner_id": recipient.id,
            "model": partner._name,
            "res_id": partner.id,
            "user_id": self.env.user.id,
            "company_id": self.env.company.id,
            "report_template": self.env.ref("account_payment_followup.action_report_followup").id,
            "attachment_id": attachment.id,
        }

    @api.model
    def _send_snailmail(self, reminder, values):
        """Queue the letters: snailmail's own cron posts them."""
        return self.env["snailmail.letter"].create(values["letters"])

    @api.model
    def _prepare_print_values(self, reminder):
        return {"letter": self._get_followup_letter(reminder)}

    @api.model
    def _send_print(self, reminder, values):
        """Nothing more to do: the letter is kept on the customer, for the user to download."""
        return values["letter"]

    @api.model
    def _prepare_activity_values(self, reminder):
        """Return the values of the level's activity, for the person it names."""
        partner, level = reminder["partner"], reminder["level"]
        activity_type = level.activity_type_id
        moves = reminder["lines"].move_id or reminder["owed_lines"].move_id
        return {
            "activity_type_id": activity_type.id,
            "summary": level.activity_summary or activity_type.summary,
            "note": level.activity_note or activity_type.default_note,
            "user_id": self._get_followup_activity_responsible(partner, level, moves).id,
            "date_deadline": self.env["mail.activity"]._calculate_date_deadline(activity_type),
        }

    @api.model
    def _send_activity(self, reminder, values):
        return reminder["partner"].activity_schedule(**values)

    # ------------------------------------------------------------
    # ATTACHMENTS
    # ------------------------------------------------------------

    @api.model
    def _get_followup_invoices(self, owed_lines):
        """Return the invoices of owed lines, whose PDF a reminder attaches."""
        return owed_lines.move_id.filtered(lambda move: move.is_invoice(include_receipts=True))

    @api.model
    def _get_followup_invoice_attachments(self, invoices):
        """Return the PDF of each invoice, rendering those never printed in one batch."""
        missing = invoices.filtered(lambda move: not move.invoice_pdf_report_id)
        if missing:
            self._render_invoice_pdfs(missing)
            invoices.invalidate_recordset(["invoice_pdf_report_id", "invoice_pdf_report_file"])
        return invoices.invoice_pdf_report_id

    @api.model
    def _render_invoice_pdfs(self, invoices):
        """Render the PDF of invoices and keep it as their official PDF, as sending them does.

        One call of the invoice report for all of them (one wkhtmltopdf run), split per
        invoice by the report engine.
        """
        report = "account.account_invoices"
        Report = self.env["ir.actions.report"]
        if (tools.config["test_enable"] or tools.config["test_file"]) and not self.env.context.get(
            "force_report_rendering"
        ):
            # As `_render_qweb_pdf` does in tests: HTML, no wkhtmltopdf.
            contents = {invoice.id: Report._render(report, invoice.ids)[0] for invoice in invoices}
        else:
            streams = Report._render_qweb_pdf_prepare_streams(report, {}, res_ids=invoices.ids)
            contents = {
                res_id: data["stream"].getvalue()
                for res_id, data in streams.items()
                if res_id and data["stream"]
            }
            for invoice in invoices.filtered(lambda move: move.id not in contents):
                # The batch could not be split per invoice (no outline): render it alone.
                contents[invoice.id] = Report._render(report, invoice.ids)[0]
        attachments = self.env["ir.attachment"].create([
            {
                "name": invoice._get_invoice_report_filename(),
                "raw": contents[invoice.id],
                "mimetype": "application/pdf",
                "res_model": invoice._name,
                "res_id": invoice.id,
                "res_field": "invoice_pdf_report_file",
            }
            for invoice in invoices
        ])
        for invoice, attachment in zip(invoices, attachments, strict=True):
            invoice.message_main_attachment_id = attachment
        return attachments

    @api.model
    def _get_followup_letter(self, reminder):
        """Return the follow-up letter of the reminder, rendered once and kept on the customer."""
        if not reminder["letter"]:
            partner = reminder["partner"]
            content, __ = self.env["ir.actions.report"]._render(
                "account_payment_followup.action_report_followup", partner.ids
            )
            reminder["letter"] = self.env["ir.attachment"].create({
                "name": _(
                    "Follow-up %(partner)s - %(date)s.pdf",
                    partner=partner.name,
                    date=fields.Date.to_string(fields.Date.context_today(self)),
                ),
                "raw": content,
                "mimetype": "application/pdf",
                "res_model": partner._name,
                "res_id": partner.id,
            })
        return reminder["letter"]

    # ------------------------------------------------------------
    # NOTES AND TASKS FOR THE RESPONSIBLE
    # ------------------------------------------------------------

    @api.model
    def _notify_followup_missing(self, partner, level, missing, nothing_sent=False):
        """Tell a person which contact details the reminder could not be sent without."""
        values = {"level": level.name, "channels": self._get_followup_channel_names(missing)}
        if nothing_sent:
            note = _(
                'The reminder "%(level)s" could not be sent by %(channels)s: complete the '
                "customer's contact details (email, mobile, address) and send it again.",
                **values,
            )
        else:
            note = _(
                'The reminder "%(level)s" was not sent by %(channels)s: complete the '
                "customer's contact details (email, mobile, address).",
                **values,
            )
        partner._message_log(body=note)
        self._schedule_followup_todo(partner, _("Complete the follow-up contact details"), note, level)

    @api.model
    def _get_followup_todos(self, partners, summary):
        """Return the open to-dos of the customers with this summary."""
        todo_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        return partners.activity_ids.filtered(
            lambda activity: activity.activity_type_id == todo_type and activity.summary == summary
        )

    @api.model
    def _schedule_followup_todo(self, partner, summary, note, level=None):
        """Schedule a to-do for the follow-up responsible, once until it is done."""
        todo_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        if not todo_type or self._get_followup_todos(partner, summary):
            return self.env["mail.activity"]
        level = level or self.env["account.followup.level"]
        return partner.activity_schedule(
            activity_type_id=todo_type.id,
            summary=summary,
            note=note,
            user_id=self._get_followup_activity_responsible(partner, level, self.env["account.move"]).id,
        )

    @api.model
    def _get_followup_activity_responsible(self, partner, level, moves):
        """Return the user who gets the activities of a reminder.

        The one the level asks for, then the follow-up responsible, the customer's
        salesperson (account manager), the salesperson of the invoices and the user
        sending the reminder (see `_get_followup_fallback_user`).
        """
        by_type = {
            "followup": partner.followup_responsible_id,
            "salesperson": moves.invoice_user_id[:1],
            "account_manager": partner.user_id,
        }
        candidates = [
            by_type.get(level.activity_default_responsible_type),
            partner.followup_responsible_id,
            partner.user_id,
            moves.invoice_user_id[:1],
        ]
        for user in candidates:
            if user and user.active and not user.share:
                return user
        return self._get_followup_fallback_user()

    @api.model
    def _get_followup_fallback_user(self):
        """Return who gets a follow-up task nobody else is named for: the user at work, or for
        the automatic reminders (OdooBot, whom nobody reads) an accounting manager of the
        company."""
        user = self.env.user
        if not self.env["res.partner"]._followup_sent_automatically():
            return user
        company = self.env.company
        managers = self.env.ref("account.group_account_manager").users.filtered(
            lambda manager: manager.active and not manager.share and company in manager.company_ids
        )
        return managers.sorted("id")[:1] or user

    @api.model
    def _get_followup_result_action(self, results):
        """Return the notification that sums up a batch of follow-ups (`_process_followups`)."""
        incomplete = results["missing"] | results["failed"]
        message = _(
            "Reminders sent: %(sent)s. Customers skipped: %(skipped)s. Customers to check: %(incomplete)s.",
            sent=len(results["sent"]),
            skipped=len(results["skipped"]),
            incomplete=len(incomplete),
        )
        params = {
            "title": _("Follow-ups processed"),
            "message": message,
            "type": "warning" if incomplete else "success",
            "sticky": bool(incomplete),
        }
        if incomplete:
            params["next"] = {
                "type": "ir.actions.act_window",
                "name": _("Customers to check"),
                "res_model": "res.partner",
                "view_mode": "tree",
                "views": [(self.env.ref("account_payment_followup.res_partner_view_tree_followup_contact").id, "tree")],
                "domain": [("id", "in", incomplete.ids)],
                "target": "current",
            }
        return {"type": "ir.actions.client", "tag": "display_notification", "params": params}

    # ------------------------------------------------------------
    # CRON
    # ------------------------------------------------------------

    @api.model
    def _get_followup_cron_batch_size(self):
        """Customers reminded per transaction by the cron."""
        return 100

    @api.model
    def _can_commit(self):
        """Tell whether the cron may commit its batches: never inside tests.

        ``modules.module.current_test`` is only set for at_install tests: post_install
        tests run with the thread's ``testing`` flag, as Odoo's mail queue checks.
        """
        return not getattr(threading.current_thread(), "testing", False)

    @api.model
    def _cron_followup_policy(self, company):
        """Apply the company's collections policy of the day before reminding: end the
        exclusions whose end date has come, decide the promises to pay whose grace days passed."""
        today = fields.Date.context_today(self)
        self.env["account.move.line"].with_company(company)._followup_end_holds(company, today)
        self.env["account.followup.promise"].with_company(company)._followup_decide_promises(company, today)

    @api.model
    def _cron_followup_step(self, step, attempts=2, exclusive=None):
        """Run one step of the cron (a batch, the refresh of the reminders, the policy of the
        day) in its own transaction, committed; return what it returned.

        Several cron workers share a run (Odoo's workers, servers): a worker skips the
        customers another one holds, but a row another worker committed after this
        transaction began cannot be written here (serialization failure).  The step is then
        rolled back and run again with a fresh view, at most ``attempts`` times; ``None``
        when it never succeeded (what it had to do is left to the next run).  Inside tests
        nothing is committed and the error is raised.

        :param int exclusive: a step of the day that one worker does for all (the refresh,
            a company's policy), identified by this number: a worker that finds another one
            doing it goes on without it (``None``) instead of doing it again behind it.  The
            reminders never wait for it: the statuses count the holds ending today and leave
            out the promises past their grace days from the morning on.
        """
        for attempt in range(1, attempts + 1):
            try:
                if exclusive is not None:
                    # held until the step's commit or rollback
                    self.env.cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", _CRON_LOCK, exclusive))
                    if not self.env.cr.fetchone()[0]:
                        _logger.info("Follow-up cron: step %s is being done by another worker", exclusive)
                        return None
                result = step()
                if self._can_commit():
                    self.env.cr.commit()  # pylint: disable=invalid-commit
                return result
            except psycopg2.errors.SerializationFailure:
                if not self._can_commit():
                    raise
                self.env.cr.rollback()
                _logger.info("Follow-up cron: a step met another worker's commit (attempt %s of %s)",
                             attempt, attempts)
        return None

    @api.model
    def _cron_process_followups(self, batch_size=None, max_batches=10):
        """Send the automatic reminders of every company, in committed batches.

        Each batch is locked (two runners never remind the same customer), decided
        again, sent and committed, so that a crash or a time limit loses nothing and
        sends nothing twice.  After ``max_batches`` batches the cron triggers itself
        again to go on, unless only customers whose reminder failed are left: a run
        tries each of them once, after the others, and the next run tries them again
        (never a loop on a customer that keeps failing).  Never prints.
        """
        batch_size = batch_size or self._get_followup_cron_batch_size()
        # what the recent reminders achieved (delivery, payments), before sending new ones
        self._cron_followup_step(self.env["account.followup.reminder"]._cron_refresh_reminders, exclusive=0)
        work_left = False
        for company in self.env["res.company"].search([]):
            Send = self.with_company(company)
            partners = self.env["res.partner"].with_company(company)
            Send._cron_followup_step(
                lambda Send=Send, company=company: Send._cron_followup_policy(company), exclusive=company.id
            )
            # decided once for the run: each batch decides again, after its lock
            candidate_ids = partners._get_followup_cron_partner_ids()
            batches = [candidate_ids[start:start + batch_size] for start in range(0, len(candidate_ids), batch_size)]
            # the addresses a reminder did not reach: read once for the run (see _get_followup_email_recipients)
            options = {
                "print": False,
                "undelivered_emails": self.env["account.followup.reminder"]._get_followup_undelivered_emails(company),
            }
            run_results = []
            for batch in batches[:max_batches]:
                # each batch is committed: kept even if a later one crashes
                batch_partners = partners.browse(batch)
                results = Send._cron_followup_step(
                    lambda Send=Send, batch_partners=batch_partners, options=options: Send._process_followups(
                        batch_partners, options=options
                    )
                )
                if results is None:
                    work_left = True  # another worker made the batch stale twice: the next run sends it
                else:
                    run_results.append(results)
            # one record of the run for the account managers of the company (it names customers
            # the other workers may be writing on: tried again as a batch is)
            Run = self.env["account.followup.run"].with_company(company)
            self._cron_followup_step(lambda Run=Run, run_results=run_results: Run._record_followup_run(run_results),
                                     attempts=5)
            left = partners.browse(candidate_ids[max_batches * batch_size:])
            work_left = work_left or bool(left.filtered(lambda partner: not partner.followup_failed))
        if work_left:
            self.env.ref("account_payment_followup.ir_cron_execute_followups")._trigger()
