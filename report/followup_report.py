from collections import defaultdict

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
        groups = self._get_followup_items_by_currency(customer)
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
            "items_table": self._get_followup_items_table_html(customer, groups, level=level),
            "bank_accounts": self.env.company.partner_id.bank_ids,
            "references": self._get_followup_payment_references(groups),
            "pay_online": self._followup_can_pay_online(),
            # the customer's follow-up page (res_partner_portal.py): its items, the letter, paying
            "portal_url": customer._get_followup_portal_url(),
            "responsible": responsible,
            "signature": self._get_followup_signature(responsible),
            "company": self.env.company,
        }

    @api.model
    def _get_followup_items_by_currency(self, partner):
        """Return the customer's open items for letters and emails, grouped by currency.

        The customer's open lines (`res.partner._get_followup_open_lines`): credit notes
        and unmatched payments are items with a negative amount that reduce the totals.
        The fields of all the lines are read at once: thousands of lines cost a few
        queries, not some per line.

        :return: a list of ``{"currency": res.currency, "lines": account.move.line,
            "rows": [dict], "total_due": float, "total_overdue": float}``, one per
            currency, sorted by currency name; rows are sorted by due date
        """
        today = fields.Date.context_today(self)
        customer = partner.commercial_partner_id
        batch_lines = self.env.cr.cache.get(self._followup_batch_key(), {}).get("open_lines", {})
        if len(customer) == 1 and customer.id in batch_lines:
            lines = self.env["account.move.line"].browse(batch_lines[customer.id])
        else:
            lines = customer._get_followup_open_lines()
        lines.fetch(["date", "date_maturity", "currency_id", "amount_residual_currency", "move_id"])
        lines.move_id.fetch(["name", "invoice_date", "invoice_origin", "payment_reference", "ref"])
        by_currency = defaultdict(list)
        for line in lines.sorted(lambda line: (line.date_maturity or line.date, line.id)):
            by_currency[line.currency_id].append(line)
        groups = []
        for currency in sorted(by_currency, key=lambda currency: currency.name):
            rows = [self._prepare_followup_item_row(line, today) for line in by_currency[currency]]
            groups.append({
                "currency": currency,
                "lines": lines.browse([row["line"].id for row in rows]),
                "rows": rows,
                "total_due": currency.round(sum(row["amount"] for row in rows)),
                "total_overdue": currency.round(
                    sum(row["amount"] for row in rows if row["due_date"] < today)
                ),
            })
        return groups

    @api.model
    def _followup_batch_key(self):
        return ("account_payment_followup.batch", self.env.company.id)

    @api.model
    def _followup_set_batch_values(self, open_lines=None, charges=None):
        """Give what a batch of reminders read at once for their emails, or forget it (no
        argument).  The batch gives them while it renders its emails, in which nothing
        changes the lines.

        :param dict open_lines: ``{partner id: [line ids]}``, in the order of
            `res.partner._get_followup_open_lines`
        :param dict charges: ``{partner id: (level, charges)}``: the customer's level and
            what `account.followup.charges._get_late_charges` returned for it today
            (``None``: no late invoice)
        """
        key = self._followup_batch_key()
        if open_lines is None and charges is None:
            self.env.cr.cache.pop(key, None)
        else:
            self.env.cr.cache[key] = {
                "date": fields.Date.context_today(self),
                "open_lines": dict(open_lines or {}),
                "charges": dict(charges or {}),
                # the dates and amounts of the tables, formatted once per language for the batch
                "formatted": {},
            }

    @api.model
    def _prepare_followup_item_row(self, line, today):
        """Return the values of one open item of the letter and emails (a column of the table)."""
        move = line.move_id
        due_date = line.date_maturity or line.date
        amount = line.amount_residual_currency
        return {
            "line": line,
            "move": move,
            "name": move.name,
            "date": move.invoice_date or line.date,
            "due_date": due_date,
            "origin": move.invoice_origin or "",
            "reference": move.payment_reference or move.ref or "",
            "amount": amount,
            # only amounts owed are late: credit notes and payments are not
            "days_late": (today - due_date).days if amount > 0 and due_date < today else 0,
        }

    @api.model
    def _get_followup_charges_values(self, partner, level=None, today=None):
        """Return the late-payment charges block of a reminder, or ``None`` when it has none.

        Only a level showing or invoicing late-payment charges has a block: per late invoice
        the days late, the yearly rates and the interest (in the invoice's currency), the flat
        compensation; the level's fee; the totals by currency; the half-years whose reference
        rate is missing (no interest is computed then).
        """
        customer = partner.commercial_partner_id
        company = self.env.company
        if not self.env["account.followup.level"]._get_charging_level_ids(company.id):
            return None
        today = today or fields.Date.context_today(self)
        # the batch of reminders read the charges of its customers at once
        batch = self.env.cr.cache.get(self._followup_batch_key(), {})
        batch_charges = batch.get("charges", {}) if batch.get("date") == today else {}
        cached = batch_charges.get(customer.id) if len(customer) == 1 else None
        if cached and (not level or level == cached[0]):
            level, charges = cached
            if not level or level.late_charges == "none":
                return None
        else:
            # this customer's level only: not the statuses of the records prefetched with it
            level = level or customer.with_prefetch(customer._ids).followup_level_id
            if not level or level.late_charges == "none":
                return None
            charges = self.env["account.followup.charges"]._get_late_charges(customer, company, today, level)
            charges = charges.get(customer.id)
        charges = charges or {
            "invoices": [], "compensation": 0.0, "fee": level.fee_amount, "missing": [], "is_consumer": False,
        }
        rows = [
            invoice for invoice in charges["invoices"]
            if invoice["interest_amount"] or invoice["compensation"] or invoice["interest"].missing
        ]
        totals = defaultdict(float)
        for row in rows:
            totals[row["currency"]] += row["interest_amount"]
            totals[company.currency_id] += row["compensation"]
        totals[company.currency_id] += charges["fee"]
        totals = [(currency, currency.round(amount)) for currency, amount in totals.items() if amount]
        if not rows and not totals:
            return None
        missing_message = ""
        if charges["missing"]:
            missing_message = _(
                "No interest is charged yet: the reference rate of the half-year starting %(date)s is not known.",
                date=tools.format_date(self.env, charges["missing"][0]),
            )
        return {
            "rows": rows,
            "missing_message": missing_message,
            "fee": charges["fee"],
            "company_currency": company.currency_id,
            "totals": sorted(totals, key=lambda total: total[0] != company.currency_id),
            "missing": charges["missing"],
        }

    @api.model
    def _get_followup_items_table_html(self, partner, groups=None, level=None):
        """Render the table of open items of the reminder emails and the letter.

        Email-safe: inline styles only, alignments resolved for the customer's
        language direction (email clients ignore ``dir`` and ``text-align: start``).
        The email templates call it: ``object.env[...]._get_followup_items_table_html(object)``.

        :param groups: see `_get_followup_items_by_currency` (computed when not given)
        :param level: the level of the reminder (the customer's by default), for its
            late-payment charges block (see `_get_followup_charges_values`)
        """
        customer = partner.commercial_partner_id
        lang = customer.lang or self.env.lang or "en_US"
        if groups is None:
            groups = self._get_followup_items_by_currency(customer)
        rtl = self.env["res.lang"]._lang_get(lang).direction == "rtl"
        # a batch's emails show the same dates (and often amounts) again and again
        formatted = self.env.cr.cache.get(self._followup_batch_key(), {}).get("formatted", {})

        def format_date(date):
            key = ("date", lang, date)
            if key not in formatted:
                formatted[key] = tools.format_date(self.env, date, lang_code=lang)
            return formatted[key]

        def format_amount(amount, currency):
            key = ("amount", lang, currency.id, amount)
            if key not in formatted:
                formatted[key] = tools.format_amount(self.env, amount, currency, lang_code=lang)
            return formatted[key]

        return self.env["ir.qweb"]._render(
            "account_payment_followup.followup_items_table",
            {
                "partner": customer,
                "groups": groups,
                "charges": self.with_context(lang=lang)._get_followup_charges_values(customer, level),
                "today": fields.Date.context_today(self),
                "pay_urls": self._get_followup_pay_urls(groups),
                "align_start": "right" if rtl else "left",
                "align_end": "left" if rtl else "right",
                # plain text in the customer's language: lighter than field widgets, for
                # every row of every reminder
                "format_date": format_date,
                "format_amount": format_amount,
                "format_rate": lambda rate: tools.formatLang(self.with_context(lang=lang).env, rate, digits=2),
            },
            lang=lang,
        )

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
