from markupsafe import Markup

from odoo import _, api, fields, models, tools
from odoo.tools import str2bool


class ReportFollowup(models.AbstractModel):
    """The follow-up letter: printed, sent by post and attached to reminder emails.

    Also renders the letter text of the levels: it inherits the rendering engine of
    mail templates for that only.
    """

    _name = "report.account_payment_followup.report_followup"
    _inherit = ["mail.render.mixin"]
    _description = "Follow-up Letter"
    # The letter texts are dynamic content like mail templates: only accounting
    # managers may write the levels (see ir.model.access.csv), anyone may print.
    _unrestricted_rendering = True

    @api.model
    def _get_report_values(self, docids, data=None):
        """Return the values of the letters, one per customer, in the current company.

        :param dict data: ``followup_level_id`` to print the letter of that level
            rather than of the customers' current level
        """
        data = data or {}
        partners = self.env["res.partner"].browse(docids)
        level = self.env["account.followup.level"].browse(data.get("followup_level_id"))
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": partners,
            # The letterhead of the company the invoices belong to, not of the
            # partner's company nor of the user's main company.
            "company": self.env.company,
            "followups": {partner.id: self._get_followup_letter_values(partner, level) for partner in partners},
        }

    @api.model
    def _get_followup_letter_values(self, partner, level=None):
        """Return what the letter of one customer shows."""
        customer = partner.commercial_partner_id
        lang = customer.lang or self.env.lang or "en_US"
        level = level or customer.followup_level_id
        groups = customer._get_followup_items_by_currency()
        today = fields.Date.context_today(self)
        responsible = customer.followup_responsible_id or self.env.user
        return {
            "customer": customer,
            "address": self._get_followup_address(customer),
            "lang": lang,
            "direction": self.env["res.lang"]._lang_get(lang).direction or "ltr",
            "today": today,
            "level": level,
            "groups": groups,
            "has_overdue": any(group["total_overdue"] > 0 for group in groups),
            "letter_text": self._render_followup_letter_text(customer, level, groups, lang, today),
            "items_table": customer._followup_items_table_html(groups),
            "bank_accounts": self.env.company.partner_id.bank_ids,
            "references": self._get_followup_payment_references(groups),
            "pay_online": self._followup_can_pay_online(),
            "responsible": responsible,
            "signature": self._get_followup_signature(responsible),
            "company": self.env.company,
        }

    @api.model
    def _get_followup_signature(self, user):
        """Return the signature of the user, unless it only repeats the name."""
        text = tools.html2plaintext(user.signature or "").replace("--", "").strip()
        if not text or text == user.name:
            return Markup()
        return user.signature

    @api.model
    def _get_followup_address(self, customer):
        """Return the contact the letter is addressed to.

        The follow-up address, else the invoice address, else the customer: the
        first of these with a complete postal address, else the first of them.
        """
        return (
            customer._get_followup_letter_recipients()
            or customer._get_followup_contacts(lambda contact: True)
            or customer
        )[:1]

    @api.model
    def _get_followup_payment_references(self, groups):
        """Return the payment references of the open invoices, without duplicates."""
        references = []
        for group in groups:
            for row in group["rows"]:
                reference = row["move"].payment_reference
                if row["amount"] > 0 and reference and reference not in references:
                    references.append(reference)
        return references

    @api.model
    def _get_followup_amounts_text(self, groups, key, lang):
        """Return the totals of every currency as one text: "€ 1,000.00 and $ 250.00"."""
        amounts = [
            tools.format_amount(self.env, group[key], group["currency"], lang_code=lang)
            for group in groups
            if not group["currency"].is_zero(group[key])
        ]
        if not amounts:
            return tools.format_amount(self.env, 0.0, self.env.company.currency_id, lang_code=lang)
        if len(amounts) == 1:
            return amounts[0]
        return _("%(amounts)s and %(last)s", amounts=", ".join(amounts[:-1]), last=amounts[-1])

    @api.model
    def _render_followup_letter_text(self, customer, level, groups, lang, today):
        """Render the letter text of the level for the customer, in its language.

        Placeholders: ``object`` (the customer), ``amount_due``, ``amount_overdue``,
        ``date``, ``company`` and ``level``.
        """
        template = level.with_context(lang=lang).letter_text
        if tools.is_html_empty(template):
            return Markup()
        report = self.with_context(lang=lang)
        add_context = {
            "amount_due": report._get_followup_amounts_text(groups, "total_due", lang),
            "amount_overdue": report._get_followup_amounts_text(groups, "total_overdue", lang),
            "date": tools.format_date(self.env, today, lang_code=lang),
            "company": self.env.company,
            "level": level,
        }
        rendered = report._render_template(
            template, customer._name, customer.ids, engine="inline_template", add_context=add_context
        )[customer.id]
        # The values are inserted as they are: sanitize as the field itself is.
        return tools.html_sanitize(rendered)

    @api.model
    def _followup_can_pay_online(self):
        """Tell whether customers can pay their invoices online (``account_payment``)."""
        return "account_payment" in self.env.registry._init_modules and str2bool(
            # sudo: a setting every user printing a letter may apply
            self.env["ir.config_parameter"].sudo().get_param("account_payment.enable_portal_payment", "False")
        )

    @api.model
    def _get_followup_pay_urls(self, groups):
        """Return ``{move id: URL}``: the portal page of each open invoice, to pay it online."""
        if not self._followup_can_pay_online():
            return {}
        invoices = self.env["account.move"].concat(
            *(row["move"] for group in groups for row in group["rows"] if row["amount"] > 0)
        ).filtered(lambda move: move.move_type == "out_invoice")
        invoices._followup_ensure_access_tokens()
        return {invoice.id: invoice.get_base_url() + invoice.get_portal_url() for invoice in invoices}
