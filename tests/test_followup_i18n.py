from pathlib import Path
from unittest.mock import patch

from lxml import html

from odoo.tests import tagged
from odoo.tools import format_amount, format_date
from odoo.tools.translate import TranslationFileReader

from .common import FollowupTestCommon

I18N = Path(__file__).resolve().parents[1] / "i18n"


@tagged("post_install", "-at_install")
class TestFollowupTranslations(FollowupTestCommon):
    """A customer in another language gets every reminder in it, with its formats."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        cls.invoice = cls.create_invoice(amount=1234.5, due_days_ago=20)

    def load_language(self, code, po_name):
        """Activate a language with the addon's translations; return the .po terms."""
        po_path = I18N / f"{po_name}.po"
        self.assertTrue(po_path.exists(), f"i18n/{po_path.name} is missing")
        self.env["res.lang"]._activate_lang(code)
        self.env["ir.module.module"]._load_module_terms(["account_payment_followup"], [code], overwrite=True)
        with po_path.open("rb") as po_file:
            terms = {}
            for entry in TranslationFileReader(po_file):
                terms.setdefault(entry["src"], entry["value"])
        self.customer.lang = code
        return terms

    def check_language(self, code, po_name):
        terms = self.load_language(code, po_name)
        partner = self.customer.with_context(lang=code)
        lang_env = self.env(context=dict(self.env.context, lang=code))

        # Email: subject and body of the level's template, in the customer's language.
        template = self.level_1.mail_template_id
        values = template._generate_template(partner.ids, ["subject", "body_html"])[partner.id]
        subject_source = template.with_context(lang="en_US").subject
        self.assertEqual(
            values["subject"],
            terms[subject_source]
            .replace("{{ object.env.company.name }}", self.company.name)
            .replace("{{ object.commercial_partner_id.name }}", self.customer.name),
        )
        body = html.fromstring(values["body_html"])
        body_text = " ".join(body.text_content().split())
        # the template's own text, translated (its source must be in the .po as it is now)
        translated = html.fromstring(terms[template.with_context(lang="en_US").body_html])
        sentence = max((" ".join(text.split()) for text in translated.itertext()), key=len)
        self.assertIn(" ".join(sentence.split()[:8]), body_text)
        self.assertIn(" ".join(terms["Total Due"].split()), body_text)
        self.assertIn(format_amount(lang_env, 1234.5, self.company.currency_id), body.text_content())
        self.assertIn(format_date(lang_env, self.days_ago(20)), body.text_content())

        # SMS: the template's body, with the amount in the locale's format.
        sms_template = self.level_2.sms_template_id
        sms_body = sms_template._render_field("body", partner.ids, compute_lang=True)[partner.id]
        amount = format_amount(lang_env, 1234.5, self.company.currency_id)
        self.assertIn(amount, sms_body)
        sms_source = sms_template.with_context(lang="en_US").body
        first_words = terms[sms_source].split("{{")[0].strip()
        self.assertTrue(sms_body.startswith(first_words), (sms_body, first_words))

        # Letter: title and table headers translated, dates in the locale's format.
        letter = self.env["ir.actions.report"]._render_qweb_html(
            "account_payment_followup.action_report_followup", partner.ids
        )[0]
        letter_text = " ".join(html.fromstring(letter).text_content().split())
        self.assertIn(terms["Payment Reminder"], letter_text)
        self.assertIn(terms["Due Date"], letter_text)
        self.assertIn(format_date(lang_env, self.days_ago(20)), letter_text)
        return amount

    def test_french(self):
        """French: email, SMS and letter in French, amounts like 1 234,50 $."""
        amount = self.check_language("fr_FR", "fr")
        self.assertIn("234,50", amount)

    def test_german(self):
        """German: email, SMS and letter in German, amounts like 1.234,50 $."""
        amount = self.check_language("de_DE", "de")
        self.assertIn("1.234,50", amount)

    def test_italian(self):
        """Italian: email, SMS and letter in Italian."""
        self.check_language("it_IT", "it")

    def test_spanish(self):
        """Spanish: email, SMS and letter in Spanish."""
        self.check_language("es_ES", "es")

    def test_dutch(self):
        """Dutch: email, SMS and letter in Dutch."""
        self.check_language("nl_NL", "nl")

    def test_vietnamese(self):
        """Vietnamese: email, SMS and letter in Vietnamese."""
        self.check_language("vi_VN", "vi")

    def test_batch_emails_in_each_language(self):
        """A batch of customers in two languages: each email is the one Odoo renders for its
        customer alone in its language, and the languages are rendered once for the batch."""
        self.load_language("fr_FR", "fr")
        english = self.customer.copy({"name": "English Customer", "lang": "en_US"})
        self.create_invoice(partner=english, amount=99.0, due_days_ago=25)
        template = self.level_1.mail_template_id
        partners = self.customer | english
        Template = type(template)
        with patch.object(Template, "_render_lang", autospec=True, side_effect=Template._render_lang) as render_lang:
            emails = self.env["account.followup.send"]._render_followup_emails(template, partners.ids)
        self.assertEqual(render_lang.call_count, 1)
        for partner in partners:
            alone = {
                field: template._render_field(field, partner.ids, compute_lang=True, options=options)[partner.id]
                for field, options in (("subject", None), ("body_html", {"post_process": True}))
            }
            self.assertEqual((emails[partner.id]["subject"], emails[partner.id]["body"]),
                             (alone["subject"], alone["body_html"]))
        self.assertTrue(emails[self.customer.id]["subject"].startswith(f"{self.company.name} - "))
        self.assertNotEqual(emails[self.customer.id]["subject"].split(" - ")[1],
                            emails[english.id]["subject"].split(" - ")[1])
        self.assertIn("English Customer", emails[english.id]["subject"])
