from datetime import timedelta

from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError

from . import followup_interest, followup_trust

FOLLOWUP_INTEREST_REFERENCES = [
    (followup_interest.REFERENCE_ECB, "ECB main refinancing operations"),
    (followup_interest.REFERENCE_DE_BASE, "German base rate (§247 BGB)"),
]


class ResCompany(models.Model):
    _inherit = "res.company"

    followup_default_plan_id = fields.Many2one(
        "account.followup.plan",
        string="Default Follow-up Plan",
        domain="[('company_id', '=', id)]",
        ondelete="restrict",
        help="The follow-up plan of the customers who have none of their own.",
    )

    # ---- late-payment charges ----
    followup_interest_policy = fields.Selection(
        selection=[
            (followup_interest.POLICY_NONE, "No interest"),
            (followup_interest.POLICY_STATUTORY, "Statutory interest"),
            (followup_interest.POLICY_CONTRACTUAL, "Contractual rate"),
        ],
        string="Late-payment Interest",
        required=True,
        default=followup_interest.POLICY_NONE,
        help="Statutory: the reference rate of each half-year plus a margin, as the law gives it. "
        "Contractual: a fixed yearly rate agreed in your terms and conditions.",
    )
    followup_interest_reference = fields.Selection(
        selection=FOLLOWUP_INTEREST_REFERENCES,
        string="Interest Reference Rate",
        default=followup_interest.REFERENCE_ECB,
    )
    followup_interest_margin = fields.Float(
        string="Interest Margin",
        digits=(16, 2),
        help="Points added to the reference rate for business customers (e.g. 8 in the EU, 9 in Germany).",
    )
    followup_interest_consumer_margin = fields.Float(
        string="Consumer Interest Margin",
        digits=(16, 2),
        help="Points added to the reference rate for individuals, where the law has such a rate "
        "(Germany: 5). Leave at 0 where it has none: individuals are then charged no statutory interest.",
    )
    followup_interest_rate = fields.Float(
        string="Contractual Interest Rate",
        digits=(16, 2),
        help="Yearly rate, in percent, of the contractual late-payment interest.",
    )
    followup_flat_compensation = fields.Monetary(
        string="Flat Compensation",
        currency_field="currency_id",
        help="Fixed compensation for recovery costs, charged once per late invoice to business "
        "customers (at least 40 EUR in the EU).",
    )
    followup_interest_product_id = fields.Many2one(
        "product.product",
        string="Interest Product",
        help="Product of the interest lines of late-payment charges invoices (its taxes and income account).",
    )
    followup_compensation_product_id = fields.Many2one(
        "product.product",
        string="Compensation Product",
        help="Product of the flat compensation lines of late-payment charges invoices.",
    )
    followup_fee_product_id = fields.Many2one(
        "product.product",
        string="Reminder Fee Product",
        help="Product of the reminder fee lines of late-payment charges invoices.",
    )
    followup_post_charges = fields.Boolean(
        string="Post Charges Invoices",
        help="Post the late-payment charges invoices the reminders create; otherwise they stay in draft "
        "for an accountant to check and post.",
    )
    followup_charge_consumers = fields.Boolean(
        string="Charge Individuals",
        help="Charge late-payment interest to customers that are individuals, not companies. They are "
        "never charged the flat compensation, which the law gives against businesses only.",
    )

    # The thresholds of the suggested trust level (followup_trust.TrustThresholds, whose
    # defaults the README gives).
    followup_trust_good_days = fields.Float(
        string="Good Debtor: Days Late",
        default=5.0,
        help="A good debtor pays its invoices at most this many days late on average (weighted by amount).",
    )
    followup_trust_bad_days = fields.Float(
        string="Bad Debtor: Days Late",
        default=30.0,
        help="A bad debtor pays its invoices more than this many days late on average (weighted by amount).",
    )
    followup_trust_good_late_share = fields.Float(
        string="Good Debtor: Paid Late (%)",
        default=20.0,
        help="A good debtor pays at most this share of its invoices after their due date.",
    )
    followup_trust_bad_late_share = fields.Float(
        string="Bad Debtor: Paid Late (%)",
        default=50.0,
        help="A bad debtor pays more than this share of its invoices after their due date.",
    )
    followup_trust_good_reminders = fields.Float(
        string="Good Debtor: Reminders per Invoice",
        default=0.2,
        help="A good debtor needs at most this many reminders per invoice.",
    )
    followup_trust_bad_reminders = fields.Float(
        string="Bad Debtor: Reminders per Invoice",
        default=1.0,
        help="A bad debtor needs more than this many reminders per invoice.",
    )
    followup_trust_bad_promises = fields.Integer(
        string="Bad Debtor: Broken Promises",
        default=2,
        help="A bad debtor broke at least this many promises to pay (0: never bad for that). "
        "A good debtor broke none.",
    )

    @api.constrains(
        "followup_trust_good_days", "followup_trust_bad_days", "followup_trust_good_late_share",
        "followup_trust_bad_late_share", "followup_trust_good_reminders", "followup_trust_bad_reminders",
        "followup_trust_bad_promises",
    )
    def _check_followup_trust_thresholds(self):
        for company in self:
            pairs = (
                (company.followup_trust_good_days, company.followup_trust_bad_days),
                (company.followup_trust_good_late_share, company.followup_trust_bad_late_share),
                (company.followup_trust_good_reminders, company.followup_trust_bad_reminders),
            )
            if min(value for pair in pairs for value in pair) < 0 or company.followup_trust_bad_promises < 0:
                raise ValidationError(_("The thresholds of the suggested trust level cannot be negative."))
            if any(good > bad for good, bad in pairs):
                raise ValidationError(
                    _("A threshold of a good debtor cannot be beyond the same threshold of a bad debtor.")
                )
            if company.followup_trust_bad_late_share > 100:
                raise ValidationError(_("A share of invoices paid late is at most 100%."))

    @api.model_create_multi
    def create(self, vals_list):
        """Extends `base` to give every new company the default follow-up plan and levels."""
        companies = super().create(vals_list)
        companies._followup_create_default_levels()
        return companies

    def write(self, vals):
        """Extends `base` to clear the cached ladders when the default follow-up plan changes."""
        result = super().write(vals)
        if "followup_default_plan_id" in vals:
            self.env.registry.clear_cache()
        return result

    def _followup_ensure_default_plan(self):
        """Return the company's default follow-up plan, made first if it has none: its oldest
        plan (the one the levels of an upgraded database moved into), else a new one."""
        self.ensure_one()
        if self.followup_default_plan_id:
            return self.followup_default_plan_id
        # sudo: the plan is made for a company the current user may not be in
        Plan = self.env["account.followup.plan"].sudo().with_context(active_test=False)
        plan = Plan.search([("company_id", "=", self.id)], order="id", limit=1)
        if not plan:
            plan = Plan.create({
                "name": self.with_context(lang="en_US")._followup_default_plan_name(),
                "company_id": self.id,
            })
            # the name in every installed language, with the addon's own terms
            plan.with_context(lang="en_US").update_field_translations("name", {
                code: self.with_context(lang=code)._followup_default_plan_name()
                for code, __ in self.env["res.lang"].get_installed() if code != "en_US"
            })
        # sudo: a user creating a level may not write on companies
        self.sudo().followup_default_plan_id = plan
        return plan

    def _followup_default_plan_name(self):
        """Return the name of the default follow-up plan, in the language of the context."""
        return _("Default plan")

    def _followup_default_levels_values(self):
        """Return the values of the default follow-up ladder of the company.

        Override to change the ladder new companies start with.
        """
        self.ensure_one()
        env_ref = self.env.ref
        phone_call = env_ref("mail.mail_activity_data_call", raise_if_not_found=False)
        dear = _("Dear {{ object.name }},")
        return [
            {
                "name": _("First reminder"),
                "delay": 15,
                "send_email": True,
                "mail_template_id": env_ref("account_payment_followup.email_template_followup_1").id,
                "join_invoices": False,
                "auto_execute": True,
                "letter_text": self._followup_letter_html([
                    dear,
                    _(
                        "Unless we are mistaken, some of your invoices are now due: you will find "
                        "them below, for an overdue amount of {{ amount_overdue }}. If you have "
                        "already paid, please disregard this letter. Otherwise, please send us the "
                        "amount due at your earliest convenience."
                    ),
                ]),
            },
            {
                "name": _("Second reminder"),
                "delay": 30,
                "send_email": True,
                "mail_template_id": env_ref("account_payment_followup.email_template_followup_2").id,
                "send_sms": True,
                "sms_template_id": env_ref("account_payment_followup.sms_template_followup").id,
                "join_invoices": True,
                "auto_execute": True,
                "letter_text": self._followup_letter_html([
                    dear,
                    _(
                        "Despite our previous reminder, the invoices listed below are still unpaid, "
                        "for an overdue amount of {{ amount_overdue }}. Please pay them within the "
                        "next days. If you have already paid, please send us the details of your "
                        "payment so that we can match it."
                    ),
                ]),
            },
            {
                "name": _("Formal notice"),
                "delay": 60,
                "send_email": True,
                "mail_template_id": env_ref("account_payment_followup.email_template_followup_3").id,
                "send_letter": True,
                "join_invoices": True,
                "auto_execute": False,
                "create_activity": bool(phone_call),
                "activity_type_id": phone_call.id if phone_call else False,
                "activity_summary": _("Call the customer about the overdue invoices"),
                "activity_default_responsible_type": "followup",
                "letter_text": self._followup_letter_html([
                    dear,
                    _(
                        "Despite our reminders, the invoices listed below are still unpaid, for an "
                        "overdue amount of {{ amount_overdue }}. We formally ask you to pay the full "
                        "amount due without delay."
                    ),
                    _(
                        "Without payment or news from you within eight days, we will have to take "
                        "further steps to recover this debt. If you face difficulties, please "
                        "contact us so that we can find a solution together."
                    ),
                ]),
            },
        ]

    # ---- late-payment charges ----

    def _followup_statutory_values(self):
        """Return the company's late-payment values the law of its country gives.

        Return an empty dict when the addon knows no statutory terms for the country.
        """
        self.ensure_one()
        country = self.account_fiscal_country_id or self.country_id
        terms = followup_interest.statutory_terms(country.code)
        if not terms:
            return {}
        return {
            "followup_interest_reference": terms.reference,
            "followup_interest_margin": terms.margin,
            "followup_interest_consumer_margin": terms.consumer_margin or 0.0,
            "followup_flat_compensation": self._followup_eur_amount(terms.flat_compensation),
        }

    def _followup_eur_amount(self, amount):
        """Return an amount the law sets in euros in the company's currency (0 if it cannot say)."""
        self.ensure_one()
        euro = self.env.ref("base.EUR")
        if self.currency_id == euro:
            return amount
        if not euro.active:
            return 0.0
        return euro._convert(amount, self.currency_id, self, fields.Date.context_today(self))

    def _followup_policy(self):
        """Return the company's late-payment policy as the charges rules see it."""
        self.ensure_one()
        return followup_interest.Policy(
            policy=self.followup_interest_policy or followup_interest.POLICY_NONE,
            reference=self.followup_interest_reference or None,
            margin=self.followup_interest_margin,
            rate=self.followup_interest_rate,
            flat_compensation=self.followup_flat_compensation,
            charge_consumers=self.followup_charge_consumers,
            consumer_margin=self.followup_interest_consumer_margin or None,
        )

    @api.model
    def _followup_letter_html(self, paragraphs):
        """Return the letter text made of the given (translated) paragraphs."""
        return Markup("").join(Markup("<p>%s</p>") % paragraph for paragraph in paragraphs)

    @api.model
    def _followup_install_default_levels(self):
        """Give every existing company its default follow-up levels (at install)."""
        self.search([])._followup_create_default_levels()

    def _followup_create_default_levels(self):
        """Create the default follow-up plan of companies that have none yet, and its default
        levels when the company has no level yet."""
        # sudo: levels are created for companies the current user may not be in
        Level = self.env["account.followup.level"].sudo().with_context(active_test=False, lang="en_US")
        langs = [code for code, __ in self.env["res.lang"].get_installed() if code != "en_US"]
        for company in self:
            plan = company._followup_ensure_default_plan()
            if Level.search_count([("company_id", "=", company.id)], limit=1):
                continue
            values = company.with_context(lang="en_US")._followup_default_levels_values()
            levels = Level.create([dict(vals, company_id=company.id, plan_id=plan.id) for vals in values])
            # The names and letters are translated with the addon's own terms in every installed language.
            letter_field = Level._fields["letter_text"]
            for lang in langs:
                translated = company.with_context(lang=lang)._followup_default_levels_values()
                for level, source, vals in zip(levels, values, translated, strict=True):
                    level.update_field_translations("name", {lang: vals["name"]})
                    if vals.get("letter_text"):
                        # term by term, as the letter text is translated paragraph by paragraph
                        terms = zip(
                            letter_field.get_trans_terms(source["letter_text"]),
                            letter_field.get_trans_terms(vals["letter_text"]),
                            strict=True,
                        )
                        level.update_field_translations("letter_text", {lang: dict(terms)})

    def _followup_load_demo_data(self):
        """Create demo customers with invoices at every stage of the follow-up.

        Called by the demo data: not yet due, due in 3 days, 10/20/40/70 days late,
        partly paid, an excluded invoice, a credit note and a customer who paid late all year. The second reminder shows
        late-payment charges (a contractual 10 % and 40.00 of flat compensation).
        """
        self.ensure_one()
        self = self.with_company(self)
        if not self.env["account.journal"].search_count([("type", "=", "sale"), ("company_id", "=", self.id)], limit=1):
            return  # no chart of accounts: nothing to invoice with
        today = fields.Date.context_today(self)
        Partner = self.env["res.partner"]
        ladder = self.env["account.followup.level"].search(
            [("plan_id", "=", self._followup_ensure_default_plan().id)], order="delay"
        )
        if self.followup_interest_policy == "none" and len(ladder) > 1:
            self.write({
                "followup_interest_policy": "contractual",
                "followup_interest_rate": 10.0,
                "followup_flat_compensation": 40.0,
            })
            ladder[1].late_charges = "show"
        accountant = self.env.ref("base.user_admin", raise_if_not_found=False) or self.env.user
        country = self.env.ref("base.be")

        def customer(name, email=True, **values):
            slug = name.lower().replace(" ", ".")
            return Partner.create({
                "name": name,
                "is_company": True,
                "email": f"accounting@{slug}.example.com" if email else False,
                "mobile": "+32 470 12 34 56",
                "street": "Avenue Louise 54",
                "zip": "1050",
                "city": "Brussels",
                "country_id": country.id,
                "followup_responsible_id": accountant.id,
                **values,
            })

        def invoice(partner, amount, due_in, move_type="out_invoice", level=None):
            due = today + timedelta(days=due_in)
            move = self.env["account.move"].create({
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": min(due, today) - timedelta(days=30 if move_type == "out_invoice" else 0),
                "invoice_date_due": due,
                "invoice_payment_term_id": False,
                "invoice_line_ids": [Command.create({
                    "name": _("Consulting services"),
                    "quantity": 1,
                    "price_unit": amount,
                    "tax_ids": [Command.clear()],
                })],
            })
            move.action_post()
            if level:
                receivable = move.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
                receivable.write({"followup_level_id": level.id, "followup_date": due + timedelta(days=level.delay)})
            return move

        invoice(customer("Alpine Outfitters"), 1200.0, 10)
        invoice(customer("Brightwater Cafe"), 850.0, 3)
        invoice(customer("Cobalt Logistics"), 2300.0, -10)
        invoice(customer("Delta Print Shop", followup_reminder_type="manual"), 640.0, -20)
        evergreen = customer("Evergreen Builders")
        partly_paid = invoice(evergreen, 3000.0, -40, level=ladder[:1])
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=partly_paid.ids
        ).create({
            "amount": 1000.0,
            "payment_date": today - timedelta(days=5),
            "payment_difference_handling": "open",
        })._create_payments()
        foxtrot = customer("Foxtrot Studios", email=False)
        invoice(foxtrot, 1500.0, -70, level=ladder[1:2])
        invoice(foxtrot, 250.0, -30, move_type="out_refund")
        granite = customer("Granite & Co")
        disputed = invoice(granite, 4200.0, -50)
        disputed.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable").blocked = True
        invoice(granite, 380.0, -5)
        # A customer who paid each invoice of the year 45 days late, and owes one more: its
        # suggested trust level (Bad Debtor) differs from the trust level set (Normal Debtor).
        harbor = customer("Harbor Supplies")
        for due_in in (-300, -200, -100):
            paid_late = invoice(harbor, 900.0, due_in)
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=paid_late.ids
            ).create({"payment_date": today + timedelta(days=due_in + 45)})._create_payments()
        invoice(harbor, 900.0, -15)

    def _followup_trust_thresholds(self):
        """Return the company's thresholds of the suggested trust level."""
        self.ensure_one()
        return followup_trust.TrustThresholds(
            good_days=self.followup_trust_good_days,
            bad_days=self.followup_trust_bad_days,
            good_late_share=self.followup_trust_good_late_share,
            bad_late_share=self.followup_trust_bad_late_share,
            good_reminders=self.followup_trust_good_reminders,
            bad_reminders=self.followup_trust_bad_reminders,
            bad_promises=self.followup_trust_bad_promises,
        )
