from datetime import date

from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import FollowupTestCommon


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
        """The charges of several customers cost one query for the lines and one for the rates."""
        self._statutory("base.it")
        for partner in (self.business, self.individual):
            self._invoice_due(date(2025, 7, 31), partner=partner)
            self._invoice_due(date(2025, 6, 30), partner=partner)
        partners = self.business + self.individual
        engine = self.env["account.followup.charges"]
        engine._get_late_charges(partners, self.company, date(2025, 9, 14))  # warms the record rules' cache
        self.env.invalidate_all()
        # the company and its currency in cache, as in a cron run
        self.assertEqual((self.company._followup_policy().margin, self.euro.decimal_places), (8.0, 2))
        with self.assertQueryCount(2):
            charges = engine._get_late_charges(partners, self.company, date(2025, 9, 14))
        self.assertEqual(sorted(charges), sorted(partners.ids))
