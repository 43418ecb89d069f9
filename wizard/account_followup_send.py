from odoo import _, api, fields, models
from odoo.exceptions import UserError


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
        domain=lambda self: [("company_id", "=", self.env.company.id)],
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

    @api.depends("level_id")
    def _compute_from_level(self):
        for wizard in self:
            level = wizard.level_id
            wizard.email = level.send_email
            wizard.template_id = level.mail_template_id
            wizard.sms = level.send_sms
            wizard.sms_template_id = level.sms_template_id
            wizard.snailmail = level.send_letter
            wizard.join_invoices = level.join_invoices

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
                template = wizard.template_id
                wizard.subject = template._render_field("subject", partner.ids, compute_lang=True)[partner.id]
                wizard.body = template._render_field(
                    "body_html", partner.ids, compute_lang=True, options={"post_process": True}
                )[partner.id]
            else:
                wizard.subject = False
                wizard.body = False

    @api.depends("partner_ids", "sms_template_id")
    def _compute_sms_body(self):
        for wizard in self:
            partner = wizard.partner_ids._origin[:1]
            if wizard.is_single and wizard.sms_template_id:
                wizard.sms_body = wizard.sms_template_id._render_field("body", partner.ids, compute_lang=True)[
                    partner.id
                ]
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
                wizard.attachment_ids = partner._get_followup_invoice_attachments(partner._get_followup_invoices())
            else:
                wizard.attachment_ids = False

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_send(self):
        """Send the reminder of each customer through the chosen channels."""
        self.ensure_one()
        self._send()
        return {"type": "ir.actions.act_window_close"}

    def action_send_and_print(self):
        """Send the reminders, then download the follow-up letter."""
        self.ensure_one()
        results = self._send(print_letter=True)
        letters = self.env["ir.attachment"].union(*(result["letter"] for result in results.values()))
        if len(letters) == 1:
            return {
                "type": "ir.actions.act_url",
                "url": f"/web/content/{letters.id}?download=true",
                "close": True,
            }
        return self.env.ref("account_payment_followup.action_report_followup").report_action(self.partner_ids)

    # ------------------------------------------------------------
    # BUSINESS METHODS
    # ------------------------------------------------------------

    def _get_followup_options(self, print_letter=False):
        """Return the options of `res.partner._execute_followup` the wizard was filled with."""
        self.ensure_one()
        options = {
            "manual": True,
            "force_send": True,
            "print": self.print or print_letter,
        }
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

    def _send(self, print_letter=False):
        """Send the reminders; errors stop everything and are shown to the user.

        :return: ``{partner: result of _execute_followup}``
        """
        self.ensure_one()
        partners = self.partner_ids.commercial_partner_id
        locked = self.env["res.partner"]._followup_lock(partners.ids)
        if len(locked) != len(partners):
            raise UserError(
                _(
                    "%(partners)s are being reminded by another user: try again in a moment.",
                    partners=", ".join((partners - partners.browse(locked)).mapped("display_name")),
                )
            )
        options = self._get_followup_options(print_letter=print_letter)
        results = {}
        batch = partners._followup_prepare_batch(options)
        for partner in partners:
            result = partner._execute_followup(options, batch=batch)
            if result["status"] != "sent":
                raise UserError(result["reason"])
            results[partner] = result
        self.env["res.partner"]._followup_write_logs([result["log"] for result in results.values()])
        return results
