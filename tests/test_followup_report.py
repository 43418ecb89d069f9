import re
from pathlib import Path
from unittest.mock import patch

from lxml import html

from odoo import Command
from odoo.tests import tagged
from odoo.tools import format_date, mute_logger
from odoo.tools.safe_eval import safe_eval
from odoo.tools.safe_eval import time as safe_time

from .common import FollowupTestCommon

REPORT = "account_payment_followup.action_report_followup"
NBSP = "\N{NO-BREAK SPACE}"
# Odoo keeps the minus sign with its number: "-" then a zero width no-break space
MINUS = "-\N{ZERO WIDTH NO-BREAK SPACE}"


@tagged("post_install", "-at_install")
class TestFollowupReport(FollowupTestCommon):
    """The follow-up letter: open items by currency, totals, letterhead and language."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.usd = cls.company.currency_id
        cls.gold = cls.currency_data["currency"]
        cls.company.partner_id.bank_ids = [Command.create({"acc_number": "BE71 0961 2345 6769"})]
        cls.customer.ref = "DECO-42"
        cls.followup_contact = cls.env["res.partner"].create({
            "name": "Deco Accounting",
            "type": "followup",
            "parent_id": cls.customer.id,
            "street": "Boulevard du Rappel 9",
            "zip": "1050",
            "city": "Ixelles",
            "country_id": cls.env.ref("base.be").id,
        })
        cls.accountant = cls.env["res.users"].create({
            "name": "Alice Recovery",
            "login": "alice.recovery",
            "signature": "<p>Credit Controller, phone +32 2 555 01 01</p>",
            "groups_id": [Command.set(cls.env.ref("account.group_account_invoice").ids)],
            "company_ids": [Command.set(cls.company.ids)],
            "company_id": cls.company.id,
        })
        cls.customer.followup_responsible_id = cls.accountant
        # USD, the company currency: a partly paid invoice, one not yet due, a credit
        # note, an unmatched payment and an excluded invoice.
        cls.invoice_partly_paid = cls.create_invoice(amount=2000.0, due_days_ago=40)
        cls.pay(cls.invoice_partly_paid, amount=400.0)
        cls.invoice_not_due = cls.create_invoice(amount=500.0, due_days_ago=-10)
        cls.credit_note = cls.create_invoice(amount=200.0, due_days_ago=20, move_type="out_refund")
        cls.payment = cls.env["account.payment"].create({
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": cls.customer.id,
            "amount": 50.0,
            "date": cls.days_ago(3),
            "ref": "Unmatched transfer",
        })
        cls.payment.action_post()
        cls.invoice_excluded = cls.create_invoice(amount=999.0, due_days_ago=30)
        cls.receivable_lines(cls.invoice_excluded).blocked = True
        # Gold coins: one invoice overdue, one not yet due
        cls.invoice_gold_overdue = cls.create_invoice(amount=300.0, due_days_ago=20, currency=cls.gold)
        cls.invoice_gold_not_due = cls.create_invoice(amount=150.0, due_days_ago=-5, currency=cls.gold)

    def render_html(self, partners=None, data=None):
        partners = partners or self.customer
        content, __ = self.env["ir.actions.report"]._render_qweb_html(REPORT, partners.ids, data=data)
        return html.fromstring(content)

    @staticmethod
    def texts(nodes):
        """Return the text of each node, ASCII whitespace collapsed (no-break spaces kept)."""
        return [re.sub(r"[ \t\r\n]+", " ", node.text_content()).strip() for node in nodes]

    def table_rows(self, root, currency):
        table = root.xpath(f'//table[@data-currency="{currency.name}"]')
        self.assertEqual(len(table), 1, f"one table of {currency.name}")
        return [self.texts(row.xpath("./td")) for row in table[0].xpath("./tbody/tr|./tfoot/tr")]

    def date(self, days_ago):
        return format_date(self.env, self.days_ago(days_ago), lang_code="en_US")

    # ------------------------------------------------------------
    # THE TABLE OF OPEN ITEMS
    # ------------------------------------------------------------

    def test_items_grouped_by_currency_with_totals(self):
        """Each currency gets its own table, rows by due date, credit note and payment negative."""
        root = self.render_html()
        self.assertEqual(root.xpath("//table/@data-currency"), [self.gold.name, "USD"])
        self.assertEqual(
            self.table_rows(root, self.usd),
            [
                [self.invoice_partly_paid.name, self.date(40), self.date(40), "",
                 self.invoice_partly_paid.payment_reference, "40", f"${NBSP}1,600.00"],
                [self.credit_note.name, self.date(20), self.date(20), "",
                 "", "", f"${NBSP}{MINUS}200.00"],
                [self.payment.move_id.name, self.date(3), self.date(3), "", "Unmatched transfer", "",
                 f"${NBSP}{MINUS}50.00"],
                [self.invoice_not_due.name, self.date(0), self.date(-10), "",
                 self.invoice_not_due.payment_reference, "", f"${NBSP}500.00"],
                ["Total Due", f"${NBSP}1,850.00"],
                ["Total Overdue", f"${NBSP}1,350.00"],
            ],
        )
        self.assertEqual(
            self.table_rows(root, self.gold),
            [
                [self.invoice_gold_overdue.name, self.date(20), self.date(20), "",
                 self.invoice_gold_overdue.payment_reference, "20", f"300.000{NBSP}☺"],
                [self.invoice_gold_not_due.name, self.date(0), self.date(-5), "",
                 self.invoice_gold_not_due.payment_reference, "", f"150.000{NBSP}☺"],
                ["Total Due", f"450.000{NBSP}☺"],
                ["Total Overdue", f"300.000{NBSP}☺"],
            ],
        )

    def test_overdue_rows_highlighted(self):
        """Only the amounts owed past their due date are highlighted, in red."""
        root = self.render_html()
        overdue = root.xpath('//tr[contains(@class, "o_followup_overdue")]/td[1]')
        self.assertEqual(
            self.texts(overdue), [self.invoice_gold_overdue.name, self.invoice_partly_paid.name]
        )
        due_cell = root.xpath('//tr[contains(@class, "o_followup_overdue")]/td[3]')[0]
        self.assertIn("color: #c0392b", due_cell.get("style"))

    def test_excluded_line_left_out(self):
        """The excluded invoice is neither listed nor counted."""
        root = self.render_html()
        self.assertNotIn(self.invoice_excluded.name, root.text_content())
        self.assertNotIn("999.00", root.text_content())

    def test_items_by_currency_values(self):
        """The grouped items hold the exact totals the letter and emails show."""
        groups = self.items_by_currency(self.customer)
        self.assertEqual(
            [(group["currency"], group["total_due"], group["total_overdue"], len(group["rows"])) for group in groups],
            [(self.gold, 450.0, 300.0, 2), (self.usd, 1850.0, 1350.0, 4)],
        )

    def test_origin_shown(self):
        """The origin of an invoice (e.g. its sales order) is shown."""
        self.invoice_not_due.invoice_origin = "SO/0042"
        rows = self.table_rows(self.render_html(), self.usd)
        self.assertEqual(rows[3][3], "SO/0042")

    def test_email_body_table(self):
        """The reminder email shows the same table, laid out without any style sheet."""
        template = self.level_1.mail_template_id
        body = template._render_field("body_html", self.customer.ids, compute_lang=True)[self.customer.id]
        root = html.fromstring(body)
        self.assertEqual(root.xpath("//table/@data-currency"), [self.gold.name, "USD"])
        self.assertEqual(self.table_rows(root, self.usd)[-1], ["Total Overdue", f"${NBSP}1,350.00"])
        self.assertFalse(root.xpath("//style|//link"))
        # padding from the tables, alignment from the cells: what every email client reads
        self.assertEqual(root.xpath("//table/@cellpadding"), ["5", "5"])
        for cell in root.xpath("//table//th"):
            self.assertIn("padding", cell.get("style", ""))
        amounts = root.xpath("//table/tbody/tr/td[7]|//table/tfoot/tr/td[2]")
        self.assertEqual({cell.get("align") for cell in amounts}, {"right"})

    # ------------------------------------------------------------
    # THE LETTER
    # ------------------------------------------------------------

    def test_letter_content(self):
        """The letter: follow-up address, date, level text, bank account, responsible."""
        root = self.render_html()
        address = self.texts(root.xpath('//div[@name="address"]'))[0]
        self.assertIn("Deco Accounting", address)
        self.assertIn("Boulevard du Rappel 9", address)
        self.assertEqual(
            self.texts(root.xpath('//div[@name="date"]/div')), [self.date(0)]
        )
        self.assertEqual(self.texts(root.xpath('//div[@name="customer_ref"]/div')), ["DECO-42"])
        self.assertEqual(self.texts(root.xpath('//h2[@name="title"]')), ["Payment Reminder"])
        # the current level of the customer is the first reminder (40 days late, never reminded)
        letter = self.texts(root.xpath('//div[@name="letter_text"]/p'))
        self.assertEqual(letter[0], "Dear Deco Customer,")
        self.assertIn(f"for an overdue amount of 300.000{NBSP}☺ and ${NBSP}1,350.00.", letter[1])
        self.assertEqual(
            self.texts(root.xpath('//ul[contains(@class, "o_followup_bank_accounts")]/li')),
            ["BE71 0961 2345 6769"],
        )
        signature = self.texts(root.xpath('//div[@name="signature"]/div'))
        self.assertEqual(
            signature,
            ["Alice Recovery", "Credit Controller, phone +32 2 555 01 01", self.company.name],
        )

    def test_letter_for_window_envelope(self):
        """Sent by post, the address sits in the block snailmail places in the envelope window."""
        content, __ = (
            self.env["ir.actions.report"]
            .with_context(snailmail_layout=True)
            ._render_qweb_html(REPORT, self.customer.ids)
        )
        address = html.fromstring(content).xpath('//div[contains(@class, "address")]/div[@name="address"]/address')
        self.assertEqual(len(address), 1)
        self.assertIn("Boulevard du Rappel 9", self.texts(address)[0])

    def test_letter_of_given_level(self):
        """The sender may print the letter of another level than the customer's current one."""
        root = self.render_html(data={"followup_level_id": self.level_3.id})
        letter = self.texts(root.xpath('//div[@name="letter_text"]/p'))
        self.assertIn("We formally ask you to pay", letter[1])

    def test_default_letter_texts(self):
        """New companies get a letter text for each default level, in every language."""
        self.env["res.lang"]._activate_lang("fr_FR")
        company = self.env["res.company"].create({"name": "Letters Inc"})
        levels = self.env["account.followup.level"].search([("company_id", "=", company.id)], order="delay")
        self.assertEqual(len(levels), 3)
        for level in levels:
            self.assertTrue(level.letter_text.startswith("<p>Dear {{ object.name }},</p>"))
            self.assertIn("{{ amount_overdue }}", level.with_context(lang="fr_FR").letter_text)

    def test_letter_without_level_text(self):
        """A level without letter text gets the generic text of the letter."""
        self.level_1.letter_text = False
        root = self.render_html()
        letter = self.texts(root.xpath('//div[@name="letter_text"]/p'))
        self.assertEqual(letter[0], "Dear Deco Customer,")
        self.assertTrue(letter[1].startswith("Unless we are mistaken"))

    def test_letterhead_of_invoices_company(self):
        """The letterhead is the company of the invoices, not the customer's own company."""
        other_company = self.company_data_2["company"]
        self.customer.company_id = False
        self.followup_contact.company_id = False
        root = self.render_html()
        self.assertTrue(root.xpath(f'//div[contains(@class, "o_company_{self.company.id}_layout")]'))
        self.assertFalse(root.xpath(f'//div[contains(@class, "o_company_{other_company.id}_layout")]'))

    def test_letter_in_other_company(self):
        """Printed from the second company, the letter lists that company's items only."""
        other_company = self.company_data_2["company"]
        invoice = self.create_invoice(amount=70.0, due_days_ago=20, company=other_company)
        Report = self.env["ir.actions.report"].with_company(other_company)
        content, __ = Report._render_qweb_html(REPORT, self.customer.ids)
        root = html.fromstring(content)
        self.assertTrue(root.xpath(f'//div[contains(@class, "o_company_{other_company.id}_layout")]'))
        self.assertEqual(root.xpath("//table/@data-currency"), [other_company.currency_id.name])
        self.assertEqual(self.texts(root.xpath("//table/tbody/tr/td[1]")), [invoice.name])

    def test_pay_online_links(self):
        """With online payment, each open invoice number links to its portal page."""
        if "account_payment" not in self.registry._init_modules:
            self.skipTest("account_payment is not installed")
        self.env["ir.config_parameter"].set_param("account_payment.enable_portal_payment", True)
        root = self.render_html()
        links = root.xpath('//a[contains(@class, "o_followup_pay_link")]')
        self.assertEqual(
            sorted(self.texts(links)),
            sorted((self.invoice_partly_paid + self.invoice_not_due + self.invoice_gold_overdue
                    + self.invoice_gold_not_due).mapped("name")),
        )
        hrefs = dict(zip(self.texts(links), (link.get("href") for link in links), strict=True))
        invoice = self.invoice_partly_paid
        self.assertEqual(
            hrefs[invoice.name],
            f"{invoice.get_base_url()}/my/invoices/{invoice.id}?access_token={invoice.access_token}",
        )
        self.assertTrue(root.xpath('//p[@name="pay_online"]'))

    def test_no_pay_online_without_account_payment(self):
        """Without the account_payment addon, no payment link and no error."""
        self.env["ir.config_parameter"].set_param("account_payment.enable_portal_payment", True)
        with patch.object(self.registry, "_init_modules", self.registry._init_modules - {"account_payment"}):
            root = self.render_html()
        self.assertFalse(root.xpath('//a[contains(@class, "o_followup_pay_link")]'))
        self.assertFalse(root.xpath('//p[@name="pay_online"]'))

    def test_no_pay_online_when_disabled(self):
        """Online payment of invoices disabled in the settings: no payment link."""
        self.env["ir.config_parameter"].set_param("account_payment.enable_portal_payment", False)
        root = self.render_html()
        self.assertFalse(root.xpath('//a[contains(@class, "o_followup_pay_link")]'))
        self.assertFalse(root.xpath('//p[@name="pay_online"]'))

    def test_statement_without_overdue(self):
        """A customer with nothing overdue gets a statement of account."""
        customer = self.customer.copy({"name": "Punctual Customer"})
        self.create_invoice(partner=customer, amount=80.0, due_days_ago=-20)
        root = self.render_html(customer)
        self.assertEqual(self.texts(root.xpath('//h2[@name="title"]')), ["Statement of Account"])
        self.assertEqual(self.table_rows(root, self.usd)[-1], ["Total Overdue", f"${NBSP}0.00"])

    def test_one_document_per_customer(self):
        """Printing several customers gives one letter each, with its own items."""
        customer = self.customer.copy({"name": "Second Customer"})
        invoice = self.create_invoice(partner=customer, amount=80.0, due_days_ago=20)
        root = self.render_html(self.customer + customer)
        articles = root.xpath('//div[contains(@class, "article")]')
        self.assertEqual([int(article.get("data-oe-id")) for article in articles], [self.customer.id, customer.id])
        self.assertEqual(self.texts(articles[1].xpath(".//table/tbody/tr/td[1]")), [invoice.name])

    # ------------------------------------------------------------
    # LANGUAGES
    # ------------------------------------------------------------

    def test_letter_in_french(self):
        """A French customer gets French dates (dd/mm/yyyy) and amounts (1 600,00)."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer.lang = "fr_FR"
        root = self.render_html()
        self.assertEqual(root.xpath('//div[contains(@class, "article")]/@data-oe-lang'), ["fr_FR"])
        due = self.days_ago(40).strftime("%d/%m/%Y")
        rows = self.table_rows(root, self.usd)
        self.assertEqual(rows[0][2], due)
        self.assertEqual(rows[0][6], f"${NBSP}1{NBSP}600,00")
        self.assertEqual(rows[-1], ["Total Overdue", f"${NBSP}1{NBSP}350,00"])
        self.assertEqual(self.table_rows(root, self.gold)[-2][-1], f"450,000{NBSP}☺")
        self.assertEqual(
            self.texts(root.xpath('//div[@name="date"]/div')), [self.today.strftime("%d/%m/%Y")]
        )
        # The addon's French translation comes from translators later: until i18n/fr.po
        # exists, the texts of the letter stay in English and only the formats change.
        if not (Path(__file__).parents[1] / "i18n" / "fr.po").exists():
            return
        self.env["ir.module.module"]._load_module_terms(["account_payment_followup"], ["fr_FR"], overwrite=True)
        root = self.render_html()
        self.assertNotEqual(self.texts(root.xpath('//h2[@name="title"]')), ["Payment Reminder"])

    def test_letter_right_to_left(self):
        """An Arabic customer's letter is laid out right to left, in the emails too."""
        self.env["res.lang"]._activate_lang("ar_001")
        self.customer.lang = "ar_001"
        root = self.render_html()
        self.assertEqual(root.xpath('//div[contains(@class, "o_followup_letter")]/@dir'), ["rtl"])
        self.assertIn("text-align: right", root.xpath("//table/thead/tr/th[1]")[0].get("style"))
        self.assertIn("text-align: left", root.xpath("//table/thead/tr/th[7]")[0].get("style"))

    # ------------------------------------------------------------
    # VOLUME AND PDF
    # ------------------------------------------------------------

    def create_many_items(self, partner, count):
        """Post one entry with ``count`` open items of 10.00 for ``partner``, due on various days."""
        move = self.env["account.move"].create({
            "move_type": "entry",
            "date": self.days_ago(10),
            "line_ids": [
                Command.create({
                    "name": f"Item {index}",
                    "partner_id": partner.id,
                    "account_id": self.company_data["default_account_receivable"].id,
                    "debit": 10.0,
                    "date_maturity": self.days_ago(index % 60),
                })
                for index in range(count)
            ] + [
                Command.create({
                    "name": "Revenue",
                    "account_id": self.company_data["default_account_revenue"].id,
                    "credit": 10.0 * count,
                })
            ],
        })
        move.action_post()
        return move

    def count_render_queries(self, partner):
        self.env.invalidate_all()
        queries_before = self.cr.sql_log_count
        root = self.render_html(partner)
        return root, self.cr.sql_log_count - queries_before

    def test_thousands_of_lines(self):
        """2,000 open items render with about as many queries as 20: no query per line."""
        small_customer, big_customer = self.env["res.partner"].create([{"name": "Small"}, {"name": "Big"}])
        self.create_many_items(small_customer, 20)
        self.create_many_items(big_customer, 2000)
        __, small_queries = self.count_render_queries(small_customer)
        root, big_queries = self.count_render_queries(big_customer)
        self.assertEqual(len(root.xpath("//table/tbody/tr")), 2000)
        self.assertEqual(self.table_rows(root, self.usd)[-2], ["Total Due", f"${NBSP}20,000.00"])
        # the ORM reads 1,000 records per query: a few more queries, never one per line
        self.assertLessEqual(big_queries, small_queries + 20)

    def test_pdf(self):
        """The letter renders as a real PDF (when wkhtmltopdf is installed)."""
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not installed")
        # Debian's wkhtmltopdf (unpatched qt) warns that it ignores headers and footers.
        with mute_logger("odoo.addons.base.models.ir_actions_report"):
            content, content_type = self.env["ir.actions.report"].with_context(
                force_report_rendering=True
            )._render_qweb_pdf(REPORT, self.customer.ids)
        self.assertEqual(content_type, "pdf")
        self.assertTrue(content.startswith(b"%PDF"))

    def test_report_file_name(self):
        """The printed file is named after the customer and the day."""
        report = self.env.ref(REPORT)
        name = safe_eval(report.print_report_name, {"object": self.customer, "time": safe_time})
        self.assertEqual(name, f"Follow-up - Deco Customer - {safe_time.strftime('%Y-%m-%d')}")
