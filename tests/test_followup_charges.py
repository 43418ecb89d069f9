from datetime import date

from freezegun import freeze_time
from lxml import html
from psycopg2 import IntegrityError

from odoo import SUPERUSER_ID, tools
from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FollowupSendCommon, FollowupTestCommon


@tagged("post_install", "-at_install")
class TestFollowupReferenceRate(FollowupTestCommon):
    """The table of reference rates shipped as data, and its checks."""

    def test_shipped_rates(self):
        """The ECB and Bundesbank rates of 2024 and 2025 are installed, one per half-year."""
        Rate = self.env["account.followup.reference.rate"]
        self.assertEqual(
            Rate._followup_rates("ecb", date(2024, 1, 1), date(2025, 12, 31)),
            {date(2024, 1, 1): 4.50, date(2024, 7, 1): 4.25, date(2025, 1, 1): 3.15, date(2025, 7, 1): 2.15},
        )
        self.assertEqual(
            Rate._followup_rates("de_base", date(2024, 1, 1), date(2025, 12, 31)),
            {date(2024, 1, 1): 3.62, date(2024, 7, 1): 3.37, date(2025, 1, 1): 2.27, date(2025, 7, 1): 1.27},
        )

    def test_rate_starts_a_half_year(self):
        Rate = self.env["account.followup.reference.rate"]
        with self.assertRaises(ValidationError):
            Rate.create({"reference": "ecb", "date_from": date(2030, 3, 1), "rate": 2.0})
        rate = Rate.create({"reference": "ecb", "date_from": date(2030, 7, 1), "rate": 2.0})
        self.assertIn("2030", rate.display_name)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            Rate.create({"reference": "ecb", "date_from": date(2030, 7, 1), "rate": 2.5})
            self.env.flush_all()


class FollowupChargesCommon(FollowupTestCommon):
    """A company in euros (the law's figures are in euros)."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.euro = cls.env.ref("base.EUR")
        cls.euro.active = True
        cls.company.currency_id = cls.euro


@tagged("post_install", "-at_install")
class TestFollowupChargesSettings(FollowupChargesCommon):
    """The company's late-payment policy, filled by country in the Accounting settings."""

    def _choose(self, country_xmlid, policy="statutory"):
        """Choose a policy in the settings as the web client does; return the onchange's result."""
        self.company.account_fiscal_country_id = self.env.ref(country_xmlid)
        settings = self.env["res.config.settings"].with_company(self.company).create({})
        settings.followup_interest_policy = policy
        return settings._onchange_followup_interest_policy()

    def _choose_statutory(self, country_xmlid):
        self.assertIsNone(self._choose(country_xmlid))
        return self.company

    def _policy_values(self, company):
        return (
            company.followup_interest_policy,
            company.followup_interest_reference,
            company.followup_interest_margin,
            company.followup_interest_consumer_margin,
            company.followup_flat_compensation,
        )

    def test_default_policy_is_none(self):
        self.assertEqual(self.company.followup_interest_policy, "none")
        self.assertFalse(self.company.followup_charge_consumers)

    def test_statutory_fill_by_country(self):
        """EU +8 on ecb, Germany +9 on de_base (consumers +5), France +10, 40 EUR everywhere in the EU."""
        expected = {
            "base.be": ("statutory", "ecb", 8.0, 0.0, 40.0),
            "base.de": ("statutory", "de_base", 9.0, 5.0, 40.0),
            "base.fr": ("statutory", "ecb", 10.0, 0.0, 40.0),
            "base.it": ("statutory", "ecb", 8.0, 0.0, 40.0),
            "base.es": ("statutory", "ecb", 8.0, 0.0, 40.0),
            "base.nl": ("statutory", "ecb", 8.0, 0.0, 40.0),
            "base.at": ("statutory", "ecb", 8.0, 0.0, 40.0),
        }
        self.assertEqual(self.company.currency_id, self.env.ref("base.EUR"))
        for country, values in expected.items():
            with self.subTest(country=country):
                self.company.write({"followup_interest_policy": "none", "followup_interest_margin": 0.0})
                self.assertEqual(self._policy_values(self._choose_statutory(country)), values)

    def test_flat_compensation_in_the_company_currency(self):
        """40 EUR converted at today's rate in a company that does not keep its books in euros."""
        company = self.company_data_2["company"]
        company.account_fiscal_country_id = self.env.ref("base.pl")
        # 1 USD = 0.25 EUR: 40 EUR = 160 USD
        self.env["res.currency.rate"].create({
            "name": self.today, "rate": 0.25, "currency_id": self.euro.id, "company_id": company.id,
        })
        self.assertNotEqual(company.currency_id, self.euro)
        values = company._followup_statutory_values()
        self.assertEqual((values["followup_interest_margin"], values["followup_flat_compensation"]), (8.0, 160.0))

    def test_statutory_outside_the_eu_fills_nothing(self):
        self.company.write({"followup_interest_margin": 3.0, "followup_flat_compensation": 0.0})
        warning = self._choose("base.us")["warning"]
        self.assertIn("United States", warning["message"])
        self.assertEqual(self._policy_values(self.company), ("statutory", "ecb", 3.0, 0.0, 0.0))

    def test_contractual_keeps_what_is_set(self):
        self.assertIsNone(self._choose("base.fr", policy="contractual"))
        self.company.followup_interest_rate = 12.0
        self.assertEqual(
            (self.company.followup_interest_policy, self.company.followup_interest_rate,
             self.company.followup_interest_margin),
            ("contractual", 12.0, 0.0),
        )


@tagged("post_install", "-at_install")
class TestFollowupChargesComputation(FollowupChargesCommon):
    """The charges of real invoices, from the one query of the customer's late lines."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.business = cls.env["res.partner"].create({
            "name": "Late Payer SpA", "is_company": True, "email": "ap@late-payer.example.com", "lang": "en_US",
        })
        cls.individual = cls.env["res.partner"].create({"name": "Mario Rossi", "email": "mario@example.com"})

    def _statutory(self, country_xmlid, company=None, **values):
        company = company or self.company
        company.account_fiscal_country_id = self.env.ref(country_xmlid)
        company.followup_interest_policy = "statutory"
        company.write({**company._followup_statutory_values(), **values})
        return company

    def _invoice_due(self, due_date, partner=None, amount=10000.0, **kwargs):
        return self.create_invoice(partner=partner or self.business, amount=amount,
                                   due_days_ago=(self.today - due_date).days, **kwargs)

    def _charges(self, reminder_date, partner=None, company=None, level=None):
        partner = partner or self.business
        company = company or self.company
        charges = self.env["account.followup.charges"].with_company(company)
        return charges._get_late_charges(partner, company, reminder_date, level).get(partner.id)

    def test_eu_italy_45_days(self):
        """10,000.00 due 2025-07-31, unpaid, reminded 2025-09-14: 45 days at 10.15 %, 125.14 and 40.00."""
        self._statutory("base.it")
        invoice = self._invoice_due(date(2025, 7, 31))
        charges = self._charges(date(2025, 9, 14))
        (line,) = charges["invoices"]
        self.assertEqual(
            (line["move_id"], line["days_late"], line["interest_amount"], line["compensation"],
             line["interest"].rates()[0][:2]),
            (invoice.id, 45, 125.14, 40.0, (10.15, 45)),
        )
        self.assertEqual(
            (charges["interest_company"], charges["compensation"], charges["missing"], charges["is_consumer"]),
            (125.14, 40.0, [], False),
        )

    def test_france_45_days(self):
        self._statutory("base.fr")
        self._invoice_due(date(2025, 7, 31))
        self.assertEqual(self._charges(date(2025, 9, 14))["invoices"][0]["interest_amount"], 149.79)

    def test_across_a_half_year(self):
        """Due 2025-06-15, reminded 2025-07-15: 15 days at 11.15 % and 15 days at 10.15 %, 87.53."""
        self._statutory("base.be")
        self._invoice_due(date(2025, 6, 15))
        (line,) = self._charges(date(2025, 7, 15))["invoices"]
        self.assertEqual(line["interest_amount"], 87.53)
        self.assertEqual([rate[:2] for rate in line["interest"].rates()], [(11.15, 15), (10.15, 15)])

    def test_germany_follows_the_shipped_base_rate(self):
        """Germany: the Basiszinssatz of the half-year as shipped, plus 9 points."""
        base_rate = self.env.ref("account_payment_followup.reference_rate_de_base_2025_07").rate
        self._statutory("base.de")
        self._invoice_due(date(2025, 7, 31))
        expected = round(10000 * (base_rate + 9) / 100 * 45 / 365 + 1e-9, 2)
        self.assertEqual(self._charges(date(2025, 9, 14))["invoices"][0]["interest_amount"], expected)
        self.assertEqual(expected, 126.62)  # with the 1.27 % shipped for 1 July 2025

    def test_partial_payment_mid_period(self):
        """4,000.00 paid on 2025-08-16 lowers the base from that day: 91.77 instead of 125.14."""
        self._statutory("base.it")
        invoice = self._invoice_due(date(2025, 7, 31))
        self.pay(invoice, amount=4000.0, payment_date=date(2025, 8, 16))
        (line,) = self._charges(date(2025, 9, 14))["invoices"]
        self.assertEqual(line["interest_amount"], 91.77)
        self.assertEqual(
            [(period.first, period.base) for period in line["interest"].periods],
            [(date(2025, 8, 1), 10000), (date(2025, 8, 16), 6000)],
        )

    def test_paid_invoice_has_no_charges(self):
        self._statutory("base.it")
        invoice = self._invoice_due(date(2025, 7, 31))
        self.pay(invoice, payment_date=date(2025, 8, 10))
        self.assertIsNone(self._charges(date(2025, 9, 14)))

    def test_missing_half_year(self):
        """No rate for the second half of 2026: no interest, the half-year named; the compensation stays."""
        self._statutory("base.it")
        self.env["account.followup.reference.rate"].search([("date_from", ">=", date(2026, 7, 1))]).unlink()
        self._invoice_due(date(2026, 6, 1))
        charges = self._charges(date(2026, 7, 20))
        self.assertEqual(charges["missing"], [date(2026, 7, 1)])
        self.assertEqual((charges["invoices"][0]["interest_amount"], charges["compensation"]), (0.0, 40.0))

    def test_consumer_not_charged(self):
        """An individual owes nothing by default; when charged, Germany's +5 and never the compensation."""
        self._statutory("base.it")
        self._invoice_due(date(2025, 7, 31), partner=self.individual)
        charges = self._charges(date(2025, 9, 14), partner=self.individual)
        self.assertEqual((charges["interest_company"], charges["compensation"], charges["is_consumer"]),
                         (0.0, 0.0, True))
        # Italy's law has no consumer margin: nothing even when individuals are charged
        self.company.followup_charge_consumers = True
        self.assertEqual(self._charges(date(2025, 9, 14), partner=self.individual)["interest_company"], 0.0)
        self._statutory("base.de", followup_charge_consumers=True)
        charges = self._charges(date(2025, 9, 14), partner=self.individual)
        self.assertEqual((charges["interest_company"], charges["compensation"]), (77.30, 0.0))  # 6.27 %

    def test_multi_currency(self):
        """Interest in the invoice's currency, rounded in it; the total in the company's currency."""
        self._statutory("base.it")
        gold = self.currency_data["currency"]
        self._invoice_due(date(2025, 7, 31), currency=gold)
        charges = self._charges(date(2025, 9, 14))
        (line,) = charges["invoices"]
        # rounded once, to the thousandth of the Gold currency
        self.assertEqual((line["currency"], gold.rounding, line["interest_amount"]), (gold, 0.001, 125.137))
        expected = gold._convert(125.137, self.euro, self.company, date(2025, 9, 14))
        self.assertEqual(charges["interest_company"], self.euro.round(expected))
        self.assertNotEqual(charges["interest_company"], 125.137)

    def test_multi_company(self):
        """Each company its own policy: statutory in Italy, a contractual 12 % in the other."""
        self._statutory("base.it")
        other = self.company_data_2["company"]
        other.write({"followup_interest_policy": "contractual", "followup_interest_rate": 12.0})
        self._invoice_due(date(2025, 7, 31))
        self._invoice_due(date(2025, 7, 31), company=other)
        self.assertEqual(self._charges(date(2025, 9, 14))["invoices"][0]["interest_amount"], 125.14)
        charges = self._charges(date(2025, 9, 14), company=other)
        self.assertEqual((charges["invoices"][0]["interest_amount"], charges["compensation"]), (147.95, 0.0))

    def test_level_fee(self):
        self._statutory("base.it")
        self._invoice_due(date(2025, 7, 31))
        self.level_1.write({"late_charges": "show", "fee_amount": 15.0})
        self.assertEqual(self._charges(date(2025, 9, 14), level=self.level_1)["fee"], 15.0)
        self.level_1.late_charges = "none"
        self.assertEqual(self._charges(date(2025, 9, 14), level=self.level_1)["fee"], 0.0)

    def test_interest_accrued_to_date_on_the_customer(self):
        """The customer's form and the Follow-up Reports show the interest accrued up to today."""
        self.company.write({"followup_interest_policy": "contractual", "followup_interest_rate": 12.0})
        self.create_invoice(partner=self.business, amount=10000.0, due_days_ago=30)
        self.business.invalidate_recordset()
        self.assertEqual(self.business.followup_interest_accrued, 98.63)  # 10,000 x 12 % x 30 / 365
        self.assertFalse(self.business.followup_interest_missing)
        self.company.followup_interest_policy = "none"
        self.business.invalidate_recordset()
        self.assertEqual(self.business.followup_interest_accrued, 0.0)

    def test_interest_accrued_with_a_missing_rate(self):
        self._statutory("base.it")
        this_year = self.today.replace(day=1, month=1)
        self.env["account.followup.reference.rate"].search([("date_from", ">=", this_year)]).unlink()
        self.create_invoice(partner=self.business, amount=10000.0, due_days_ago=30)
        self.business.invalidate_recordset()
        self.assertEqual(
            (self.business.followup_interest_accrued, self.business.followup_interest_missing), (0.0, True)
        )

    def test_one_query_for_the_lines(self):
        """The charges of several customers cost one query for the lines and one for the rates
        (read once per transaction)."""
        self._statutory("base.it")
        for partner in (self.business, self.individual):
            self._invoice_due(date(2025, 7, 31), partner=partner)
            self._invoice_due(date(2025, 6, 30), partner=partner)
        partners = self.business + self.individual
        engine = self.env["account.followup.charges"]
        self.env.cr.cache.pop("account_payment_followup.reference_rates", None)
        engine._get_late_charges(partners, self.company, date(2025, 9, 14))  # warms the record rules' cache
        self.env.invalidate_all()
        self.env.cr.cache.pop("account_payment_followup.reference_rates", None)
        # the company and its currency in cache, as in a cron run
        self.assertEqual((self.company._followup_policy().margin, self.euro.decimal_places), (8.0, 2))
        with self.assertQueryCount(2):
            charges = engine._get_late_charges(partners, self.company, date(2025, 9, 14))
        self.assertEqual(sorted(charges), sorted(partners.ids))


@tagged("post_install", "-at_install")
class TestFollowupChargesShown(FollowupSendCommon):
    """A level in `show` mode: the charges block in the email, the letter and the wizard."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        euro = cls.env.ref("base.EUR")
        euro.active = True
        cls.company.write({"currency_id": euro.id, "account_fiscal_country_id": cls.env.ref("base.it").id})
        cls.company.write({"followup_interest_policy": "statutory", **cls.company._followup_statutory_values()})
        (cls.level_1 + cls.level_2 + cls.level_3).write({"late_charges": "show", "fee_amount": 5.0})
        cls.customer.is_company = True

    def _remind(self, reminder_date="2025-09-14"):
        with freeze_time(f"{reminder_date} 12:00:00"), self.mock_mail_gateway():
            result = self.env["account.followup.send"]._execute_followup(self.customer)
        self.assertEqual(result["status"], "sent")
        return self.customer_mails(self.customer)

    def _block_text(self, html_text):
        block = html.fromstring(str(html_text)).find_class("o_followup_late_charges")
        self.assertTrue(block, "no late-payment charges block")
        return " ".join(block[0].text_content().split())

    def test_email_letter_and_wizard_show_the_charges(self):
        """10,000.00 due 2025-07-31 reminded 2025-09-14: 45 days at 10.15 %, 125.14, 40.00, fee 5.00."""
        invoice = self.create_invoice(amount=10000.0, due_days_ago=(self.today - date(2025, 7, 31)).days)
        with freeze_time("2025-09-14 12:00:00"):
            action = self.customer.action_open_followup_send()
            wizard = self.env[action["res_model"]].with_context(**action["context"]).create({})
            wizard_text = self._block_text(wizard.body)
            letter = self.env["ir.actions.report"]._render_qweb_html(
                "account_payment_followup.action_report_followup", self.customer.ids
            )[0]
        expected = (
            f"Late-payment charges Invoice Days Late Yearly Rate Interest Flat Compensation {invoice.name} 45 10.15 % "
            "125.14 € 40.00 € Reminder fee 5.00 € Total late-payment charges 170.14 €"
        )
        self.assertEqual(wizard_text, expected)
        self.assertEqual(self._block_text(letter.decode()), expected)
        self.assertEqual(self._block_text(self._remind().body_html), expected)
        # shown, not booked
        self.assertFalse(self.env["account.move.line"].search([("followup_charged_line_id", "!=", False)]))

    def test_across_a_half_year_in_french(self):
        """Due 2025-06-15 reminded 2025-07-15: two rates, 87.53, in the customer's language and formats."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["account_payment_followup"], ["fr_FR"], overwrite=True)
        self.customer.lang = "fr_FR"
        self.create_invoice(amount=10000.0, due_days_ago=(self.today - date(2025, 6, 15)).days)
        text = self._block_text(self._remind("2025-07-15").body_html)
        self.assertIn("Pénalités de retard", text)
        self.assertIn("11,15 % (15 jours)", text)
        self.assertIn("10,15 % (15 jours)", text)
        self.assertIn("87,53", text)

    def test_missing_rate_said_clearly(self):
        self.env["account.followup.reference.rate"].search([("date_from", ">=", date(2026, 7, 1))]).unlink()
        self.create_invoice(amount=10000.0, due_days_ago=(self.today - date(2026, 6, 1)).days)
        text = self._block_text(self._remind("2026-07-20").body_html)
        self.assertIn(
            "No interest is charged yet: the reference rate of the half-year starting 07/01/2026 is not known.", text
        )

    def test_level_without_charges_shows_nothing(self):
        (self.level_1 + self.level_2 + self.level_3).write({"late_charges": "none"})
        self.create_invoice(amount=10000.0, due_days_ago=(self.today - date(2025, 7, 31)).days)
        mail = self._remind()
        self.assertFalse(html.fromstring(str(mail.body_html)).find_class("o_followup_late_charges"))

    def test_invoice_mode(self):
        """`invoice`: one draft with the right lines and taxes; the next reminder charges only the
        days since; cancelling a charges invoice frees what it charged."""
        levels = self.level_1 + self.level_2 + self.level_3
        levels.write({"late_charges": "invoice"})
        italy = self.env.ref("base.it")
        sale_tax = self.env["account.tax"].create({
            "name": "IVA 22%", "amount": 22.0, "type_tax_use": "sale", "company_id": self.company.id,
            "country_id": italy.id,
            "tax_group_id": self.env["account.tax.group"].create({
                "name": "IVA", "country_id": italy.id, "company_id": self.company.id,
            }).id,
        })
        product = self.env["product.product"]
        self.company.write({
            "followup_interest_product_id": product.create({"name": "Interest", "taxes_id": False}).id,
            "followup_compensation_product_id": product.create({"name": "Compensation", "taxes_id": False}).id,
            "followup_fee_product_id": product.create({"name": "Fee", "taxes_id": [(6, 0, sale_tax.ids)]}).id,
        })
        invoice = self.create_invoice(amount=10000.0, due_days_ago=(self.today - date(2025, 7, 31)).days)
        late_line = self.receivable_lines(invoice)

        def charges_invoices():
            return self.env["account.move"].search(
                [("partner_id", "=", self.customer.id), ("invoice_line_ids.followup_charge_type", "!=", False)],
                order="id",
            )

        self._remind("2025-09-14")
        first = charges_invoices()
        self.assertEqual(len(first), 1)
        self.assertEqual((first.state, first.move_type, first.ref), ("draft", "out_invoice", "Late-payment charges"))
        self.assertEqual(
            [(line.followup_charge_type, line.followup_charged_line_id, line.followup_charged_until, line.price_unit,
              line.tax_ids) for line in first.invoice_line_ids],
            [
                ("interest", late_line, date(2025, 9, 14), 125.14, self.env["account.tax"]),
                ("compensation", late_line, False, 40.0, self.env["account.tax"]),
                ("fee", self.env["account.move.line"], False, 5.0, sale_tax),
            ],
        )
        # the next reminder: only the 30 days since, no second compensation
        self._remind("2025-10-14")
        second = charges_invoices() - first
        self.assertEqual(
            [(line.followup_charge_type, line.price_unit) for line in second.invoice_line_ids],
            [("interest", 83.42), ("fee", 5.0)],  # 10,000 x 10.15 % x 30 / 365
        )
        engine = self.env["account.followup.charges"]
        with freeze_time("2025-10-14 12:00:00"):
            self.assertEqual(engine._get_late_charges(self.customer, self.company, date(2025, 10, 14))
                             [self.customer.id]["invoices"][0]["interest_amount"], 0.0)
            second.button_cancel()
            charges = engine._get_late_charges(self.customer, self.company, date(2025, 10, 14))[self.customer.id]
            self.assertEqual((charges["invoices"][0]["interest_amount"], charges["compensation"]), (83.42, 0.0))
            first.button_cancel()
            charges = engine._get_late_charges(self.customer, self.company, date(2025, 10, 14))[self.customer.id]
            self.assertEqual((charges["invoices"][0]["interest_amount"], charges["compensation"]), (208.56, 40.0))

    def test_no_charges_on_a_charges_invoice(self):
        """A posted charges invoice left unpaid is never charged interest itself."""
        (self.level_1 + self.level_2 + self.level_3).write({"late_charges": "invoice"})
        self.company.followup_post_charges = True
        self.create_invoice(amount=10000.0, due_days_ago=(self.today - date(2025, 7, 31)).days)
        self._remind("2025-09-14")
        charges_invoice = self.env["account.move"].search([("invoice_line_ids.followup_charge_type", "=", "interest")])
        self.assertEqual(charges_invoice.state, "posted")
        charges = self.env["account.followup.charges"]._get_late_charges(
            self.customer, self.company, date(2026, 3, 1)
        )[self.customer.id]
        self.assertNotIn(charges_invoice.id, [row["move_id"] for row in charges["invoices"]])

    def test_cron_query_cost_of_the_charges(self):
        """A cron batch of 2 customers with charges shown costs at most 2 queries more per
        customer than without (the lines of the customer, its rates)."""

        def run_cron():
            with freeze_time("2025-09-14 12:00:00"), self.mock_mail_gateway(), self.mockSMSGateway():
                self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups(batch_size=2, max_batches=1)

        def batch_cost(late_charges):
            (self.level_1 + self.level_2 + self.level_3).write({"late_charges": late_charges})
            customers = self.env["res.partner"]
            for index in range(4):
                customers |= self.customer.copy({"name": f"Charged {late_charges} {index}",
                                                 "email": f"charged.{late_charges}.{index}@example.com"})
            for partner in customers:
                self.create_invoice(partner=partner, amount=100.0, due_days_ago=(self.today - date(2025, 8, 20)).days)
            run_cron()  # warms the caches (and reminds the 2 first)
            return self.count_queries(run_cron)

        self.level_1.auto_execute = True
        run_cron()  # the customers of the database are reminded first
        without = batch_cost("none")
        shown = batch_cost("show")
        self.assertLessEqual(shown - without, 2 * 2)

    def test_cron_charges_cost_no_query_per_customer(self):
        """The charges shown cost a fixed number of queries per cron batch, none per customer: a
        batch of 4 customers with charges shown costs as many queries more than a batch of 2 as
        without charges; the emails show each customer's own charges."""

        def run_cron(batch_size):
            with freeze_time("2025-09-14 12:00:00"), self.mock_mail_gateway(), self.mockSMSGateway():
                self.env["res.partner"].with_user(SUPERUSER_ID)._cron_execute_followups(
                    batch_size=batch_size, max_batches=1
                )

        def batch_cost(late_charges, batch_size):
            (self.level_1 + self.level_2 + self.level_3).write({"late_charges": late_charges})
            customers = self.env["res.partner"]
            for index in range(2 * batch_size):
                customers |= self.customer.copy({
                    "name": f"Charged {late_charges} {batch_size} {index}",
                    "email": f"charged.{late_charges}.{batch_size}.{index}@example.com",
                })
            for index, partner in enumerate(customers):
                self.create_invoice(partner=partner, amount=100.0 * (index + 1),
                                    due_days_ago=(self.today - date(2025, 8, 20)).days)
            run_cron(batch_size)  # warms the caches (and reminds the first batch)
            queries = self.count_queries(lambda: run_cron(batch_size))
            self.assertEqual(len(customers.filtered(self.customer_mails)), 2 * batch_size)
            return queries, customers

        self.level_1.auto_execute = True
        run_cron(4)  # the customers of the database are reminded first
        without_2, __ = batch_cost("none", 2)
        without_4, __ = batch_cost("none", 4)
        shown_2, __ = batch_cost("show", 2)
        shown_4, customers = batch_cost("show", 4)
        self.assertEqual(shown_4 - shown_2, without_4 - without_2)
        # each email shows the interest of its own invoice (amounts differ from one customer to the next)
        for partner in customers:
            body = self.customer_mails(partner).body_html
            interest = self.env["account.followup.charges"]._get_late_charges(
                partner, self.company, date(2025, 9, 14)
            )[partner.id]["invoices"][0]["interest_amount"]
            self.assertGreater(interest, 0.0)
            amount = tools.format_amount(self.env, interest, self.env.ref("base.EUR")).replace("\xa0", " ")
            self.assertIn(f"{amount} 40.00 €", self._block_text(body))
