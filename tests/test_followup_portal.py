import re
from urllib.parse import urlsplit

from markupsafe import escape

from odoo import Command
from odoo.http import content_disposition
from odoo.tests import HttpCase, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from ..models import followup_sms
from .common import FollowupTestCommon


class FollowupPortalCase(FollowupTestCommon, HttpCase):
    """Customers with open items, a portal user of the customer and one of another."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.env["ir.config_parameter"].sudo().set_param("web.base.url", cls.base_url())
        cls.invoice_late = cls.create_invoice(amount=400.0, due_days_ago=20)
        cls.invoice_later = cls.create_invoice(amount=250.0, due_days_ago=45)
        cls.invoice_not_due = cls.create_invoice(amount=100.0, due_days_ago=-10)
        cls.other_customer = cls.env["res.partner"].create({"name": "Other Customer", "email": "other@example.com"})
        cls.other_invoice = cls.create_invoice(partner=cls.other_customer, amount=999.0, due_days_ago=30)
        cls.contact = cls.env["res.partner"].create({
            "name": "Deco Contact", "parent_id": cls.customer.id, "email": "contact@example.com",
        })
        portal_group = cls.env.ref("base.group_portal")
        cls.portal_user = cls.env["res.users"].create({
            "name": "Deco Contact", "login": "deco_portal", "password": "deco_portal",
            "partner_id": cls.contact.id, "groups_id": [Command.set(portal_group.ids)],
        })
        cls.other_portal_user = cls.env["res.users"].create({
            "name": "Other Customer", "login": "other_portal", "password": "other_portal",
            "partner_id": cls.other_customer.id, "groups_id": [Command.set(portal_group.ids)],
        })

    def relative(self, url):
        parts = urlsplit(url)
        return f"{parts.path}?{parts.query}"

    def assertPageOf(self, response, partner, names):
        """The response is the follow-up page of ``partner`` with exactly those items."""
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("/web/login", response.url)
        page = response.text
        self.assertIn(f'data-customer="{partner.id}"', page)
        self.assertEqual(
            sorted(name for name in self.all_invoice_names() if f'data-move="{name}"' in page), sorted(names)
        )

    def assertRefused(self, response):
        self.assertIn("/web/login", response.url)
        self.assertNotIn("o_followup_portal", response.text)
        for name in self.all_invoice_names():
            self.assertNotIn(name, response.text)

    def all_invoice_names(self):
        return (self.invoice_late | self.invoice_later | self.invoice_not_due | self.other_invoice).mapped("name")



@tagged("post_install", "-at_install")
class TestFollowupPortal(FollowupPortalCase):
    """The customer's follow-up page: opened with the link of a reminder, or from the
    portal home by the customer's own users; refused to anyone else."""

    def test_link_of_the_customer_opens_its_page(self):
        """An anonymous visitor with the link sees the customer's open items, overdue ones
        with their days late, and the totals of the company."""
        url = self.customer._get_followup_portal_url()
        self.assertTrue(url.startswith(f"{self.base_url()}/my/followup/{self.customer.id}?access_token="))
        # 128 random bits, URL-safe
        self.assertRegex(self.customer.sudo().access_token, r"^[A-Za-z0-9_-]{22}$")
        response = self.url_open(self.relative(url))
        self.assertPageOf(
            response, self.customer, (self.invoice_late | self.invoice_later | self.invoice_not_due).mapped("name")
        )
        page = response.text
        self.assertEqual(page.count("o_followup_overdue"), 2)
        self.assertRegex(page, r'o_followup_days_late">\s*45\s*</td>')
        # the contact's link is its customer's
        self.assertEqual(self.contact._get_followup_portal_url(), url)

    def test_wrong_or_old_token_is_refused(self):
        """A wrong token, another customer's token, or a token regenerated since, open nothing."""
        url = self.relative(self.customer._get_followup_portal_url())
        self.assertRefused(self.url_open(f"/my/followup/{self.customer.id}?access_token=wrong"))
        self.assertRefused(self.url_open(f"/my/followup/{self.customer.id}"))
        other_token = self.other_customer._portal_ensure_token()
        self.assertRefused(self.url_open(f"/my/followup/{self.customer.id}?access_token={other_token}"))
        self.customer.action_followup_regenerate_portal_link()
        self.assertRefused(self.url_open(url))
        new_url = self.relative(self.customer._get_followup_portal_url())
        self.assertNotEqual(new_url, url)
        self.assertPageOf(
            self.url_open(new_url), self.customer,
            (self.invoice_late | self.invoice_later | self.invoice_not_due).mapped("name"),
        )

    def test_portal_users(self):
        """The customer's portal user opens its page from My account; another customer's
        portal user cannot open it without the link."""
        self.authenticate("deco_portal", "deco_portal")
        response = self.url_open("/my/followup")
        self.assertPageOf(
            response, self.customer, (self.invoice_late | self.invoice_later | self.invoice_not_due).mapped("name")
        )
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["followup_count"]})
        self.assertEqual(counters, {"followup_count": 3})
        self.assertIn('data-placeholder_count="followup_count"', self.url_open("/my/home").text)

        self.authenticate("other_portal", "other_portal")
        response = self.url_open(f"/my/followup/{self.customer.id}")
        self.assertNotIn("o_followup_portal", response.text)
        self.assertNotIn(self.invoice_late.name, response.text)
        self.assertPageOf(self.url_open("/my/followup"), self.other_customer, self.other_invoice.mapped("name"))

    def test_letter_pdf(self):
        """The page offers the follow-up letter of the customer (the report of the reminders)."""
        url = self.relative(self.customer._get_followup_portal_url(suffix="/letter"))
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.headers["Content-Disposition"], content_disposition("Follow-up Letter - Deco Customer.pdf")
        )
        # in tests, Odoo renders the PDF's HTML
        self.assertIn(self.invoice_late.name, response.text)
        self.assertNotIn(self.other_invoice.name, response.text)
        self.assertRefused(self.url_open(f"/my/followup/{self.customer.id}/letter?access_token=wrong"))

    def test_page_in_the_customers_language(self):
        """The anonymous visitor sees the page in the customer's language."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["account_payment_followup"], ["fr_FR"], overwrite=True)
        self.customer.lang = "fr_FR"
        page = self.url_open(self.relative(self.customer._get_followup_portal_url())).text
        self.assertIn("Total dû", page)
        self.assertIn("Rappel de paiement", page)


def is_installed(env, module):
    return env["ir.module.module"].search_count([("name", "=", module), ("state", "=", "installed")]) > 0


@tagged("post_install", "-at_install")
class TestFollowupPortalBankTransfer(FollowupPortalCase):
    """No online payment (account_payment not installed, or no payment provider enabled,
    as in this test's company): the page tells how to pay by bank transfer, as the letter does."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.bank_account = cls.env["res.partner.bank"].create({
            "acc_number": "BE71 0961 2345 6769", "partner_id": cls.company.partner_id.id,
        })
        cls.invoice_late.payment_reference = "+++020/3430/57642+++"

    def test_bank_transfer_details(self):
        """The bank account of the company and the references; no payment button nor form."""
        page = self.url_open(self.relative(self.customer._get_followup_portal_url())).text
        self.assertIn("Please pay by bank transfer to our account:", page)
        self.assertIn("BE71 0961 2345 6769", page)
        self.assertIn("+++020/3430/57642+++", page)
        self.assertNotIn("o_followup_pay_all", page)
        self.assertNotIn("o_followup_pay_invoice", page)
        url = self.customer._get_followup_portal_url(suffix="/pay", currency_id=self.company.currency_id.id)
        response = self.url_open(self.relative(url))
        if is_installed(self.env, "account_payment"):
            self.assertIn("o_followup_portal", response.text)  # back to the page
            self.assertNotIn("o_followup_portal_pay", response.text)
        else:
            self.assertEqual(response.status_code, 404)  # Odoo serves the payment routes with account_payment only


@tagged("post_install", "-at_install")
class TestFollowupPortalPayment(FollowupPortalCase):
    """With account_payment and a provider: Pay all overdue, in one transaction, through
    Odoo's payment form (the tour), and a payment button per invoice."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        if not is_installed(cls.env, "account_payment") or not is_installed(cls.env, "payment_demo"):
            return
        cls.env["ir.config_parameter"].sudo().set_param("account_payment.enable_portal_payment", True)
        demo = cls.env.ref("payment.payment_provider_demo").sudo()
        cls.provider = demo.copy({"company_id": cls.company.id}) if demo.company_id != cls.company else demo
        cls.provider.write({"state": "test", "is_published": True})

    def setUp(self):
        super().setUp()
        if not is_installed(self.env, "account_payment"):
            self.skipTest("account_payment is not installed: the page shows the bank transfer details instead")
        if not is_installed(self.env, "payment_demo"):
            self.skipTest("payment_demo is not installed: no provider to pay with in the test")

    def test_pay_buttons(self):
        """Pay all overdue for the two overdue invoices; a button per invoice, not due ones included."""
        url = self.customer._get_followup_portal_url()
        page = self.url_open(self.relative(url)).text
        self.assertEqual(page.count("o_followup_pay_all"), 1)
        self.assertEqual(page.count("o_followup_pay_invoice"), 3)
        self.assertIn(self.invoice_late.get_portal_url(anchor="portal_pay").replace("&", "&amp;"), page)
        pay_page = self.url_open(self.relative(self.customer._get_followup_portal_url(
            suffix="/pay", currency_id=self.company.currency_id.id,
        ))).text
        self.assertEqual(
            sorted(name for name in self.all_invoice_names() if f'data-move="{name}"' in pay_page),
            sorted((self.invoice_late | self.invoice_later).mapped("name")),
        )
        self.assertIn('data-amount="650.0"', pay_page)

    def test_transaction_of_all_overdue(self):
        """The transaction route pays the overdue invoices at once, for the amount of the form only."""
        token = self.customer._portal_ensure_token()
        route = f"/my/followup/{self.customer.id}/transaction/{self.company.id}/{self.company.currency_id.id}"
        params = {
            "access_token": token,
            "provider_id": self.provider.id,
            "payment_method_id": self.provider.payment_method_ids[:1].id,
            "token_id": None,
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": "/my/followup",
            "is_validation": False,
        }
        with mute_logger("odoo.http"), self.assertRaisesRegex(JsonRpcException, "ValidationError"):
            self.make_jsonrpc_request(route, {**params, "amount": 100.0})
        with mute_logger("odoo.http"), self.assertRaisesRegex(JsonRpcException, "ValidationError"):
            self.make_jsonrpc_request(route, {**params, "amount": 650.0, "access_token": "wrong"})
        self.assertFalse(self.env["payment.transaction"].search([("partner_id", "=", self.customer.id)]))
        self.make_jsonrpc_request(route, {**params, "amount": 650.0})
        transaction = self.env["payment.transaction"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(transaction.invoice_ids, self.invoice_late | self.invoice_later)
        self.assertEqual(transaction.amount, 650.0)

    def test_tour_pay_all_overdue(self):
        """The anonymous visitor with the link pays all overdue with the demo provider: the
        invoices are paid and the customer is no longer in need of action."""
        self.assertEqual(self.customer.followup_status, "in_need_of_action")
        # the link of the reminder email the customer got
        body = self.level_1.mail_template_id._generate_template(self.customer.ids, ["body_html"])[self.customer.id]
        link = re.search(r'href="([^"]*/my/followup/[^"]*)"', str(body["body_html"])).group(1).replace("&amp;", "&")
        self.assertEqual(link, self.customer._get_followup_portal_url())
        self.start_tour(self.relative(link), "account_payment_followup_pay_all_overdue")
        self.assertEqual((self.invoice_late | self.invoice_later).mapped("payment_state"), ["paid", "paid"])
        self.assertEqual(self.invoice_not_due.payment_state, "not_paid")
        # the invoice not due yet is all that is left: its first reminder comes next
        self.assertFollowup(self.customer, "no_action_needed", self.level_1, 100.0, 0.0)


@tagged("post_install", "-at_install")
class TestFollowupReminderLink(FollowupTestCommon):
    """Every reminder carries the link of the customer's follow-up page: the emails, the
    letter and the SMS, which stays GSM-7 and within 2 SMS in the six languages."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.invoice = cls.create_invoice(amount=1234.5, due_days_ago=35)

    def test_emails_carry_the_link(self):
        url = self.customer._get_followup_portal_url()
        for level in self.level_1 | self.level_2 | self.level_3:
            body = level.mail_template_id._generate_template(self.customer.ids, ["body_html"])[self.customer.id]
            self.assertIn(f'href="{escape(url)}"', str(body["body_html"]), level.name)

    def test_letter_carries_the_link(self):
        url = self.customer._get_followup_portal_url()
        html = self.env["ir.actions.report"]._render_qweb_html(
            "account_payment_followup.action_report_followup", self.customer.ids
        )[0].decode()
        self.assertIn(f'href="{escape(url)}"', html)

    def test_sms_gsm7_within_two_sms_in_six_languages(self):
        """The default SMS with a 4-digit amount and the link: GSM-7 (plain spaces in the
        amount), at most 2 SMS, in English and the five languages whose texts fit it; the
        Vietnamese text is written without diacritics, as Vietnamese SMS usually are."""
        template = self.level_2.sms_template_id
        Send = self.env["account.followup.send"]
        url = self.customer._get_followup_portal_url()
        for code in ("en_US", "fr_FR", "de_DE", "it_IT", "es_ES", "nl_NL", "vi_VN"):
            with self.subTest(lang=code):
                if code != "en_US":
                    self.env["res.lang"]._activate_lang(code)
                    self.env["ir.module.module"]._load_module_terms(
                        ["account_payment_followup"], [code], overwrite=True
                    )
                self.customer.lang = code
                body = Send._render_followup_sms(template, self.customer)
                self.assertIn(url, body)
                self.assertTrue(followup_sms.is_gsm7(body), body)
                self.assertLessEqual(followup_sms.sms_count(body), 2, (len(body), body))
                self.assertIn("1", body)
