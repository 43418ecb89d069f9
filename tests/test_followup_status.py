from datetime import timedelta
from unittest.mock import patch

import psycopg2
from freezegun import freeze_time

from odoo import fields
from odoo.api import call_kw
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.followup_rules import STATUS_IN_NEED as IN_NEED
from ..models.followup_rules import STATUS_NO_ACTION as NO_ACTION
from ..models.followup_rules import STATUS_OVERDUE as OVERDUE
from .common import FollowupTestCommon


@tagged("post_install", "-at_install")
class TestFollowupStatus(FollowupTestCommon):
    """The status rules: which customers need a reminder, at which level, for how much."""

    def test_no_open_invoice(self):
        """A customer without open invoices needs no action and owes nothing."""
        self.assertFollowup(self.customer, NO_ACTION, self.env["account.followup.level"], 0.0, 0.0)

    def test_not_yet_due(self):
        """An invoice due in 10 days is open but not overdue: the first level is upcoming."""
        self.create_invoice(amount=100.0, due_days_ago=-10)
        self.assertFollowup(self.customer, NO_ACTION, self.level_1, 100.0, 0.0)

    def test_overdue_before_first_level(self):
        """Late by 5 days, below the 15 days of the first level: overdue, no action yet."""
        self.create_invoice(amount=100.0, due_days_ago=5)
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 100.0, 100.0)

    def test_first_level_reached(self):
        """Late by exactly 15 days: the first reminder is due today."""
        self.create_invoice(amount=100.0, due_days_ago=15)
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 100.0, 100.0)

    def test_never_reminded_line_starts_at_first_level(self):
        """A never-reminded invoice 70 days late gets the first level, not the formal notice."""
        self.create_invoice(amount=100.0, due_days_ago=70)
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 100.0, 100.0)

    def test_next_level_after_a_reminder(self):
        """After the first reminder, the second is due 30 days after the due date."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=29)
        self.receivable_lines(invoice).write({"followup_level_id": self.level_1.id, "followup_date": self.days_ago(14)})
        self.assertFollowup(self.customer, OVERDUE, self.level_2, 100.0, 100.0)
        with freeze_time(self.today + timedelta(days=1)):
            self.assertFollowup(self.customer, IN_NEED, self.level_2, 100.0, 100.0)

    def test_highest_level_of_all_lines(self):
        """The customer's level is the highest level any of its lines has reached."""
        old = self.create_invoice(amount=100.0, due_days_ago=65)
        self.receivable_lines(old).write({"followup_level_id": self.level_2.id, "followup_date": self.days_ago(35)})
        self.create_invoice(amount=50.0, due_days_ago=20)
        self.assertFollowup(self.customer, IN_NEED, self.level_3, 150.0, 150.0)

    def test_last_level_repeats_at_last_gap(self):
        """After the formal notice (60 days), reminders repeat every 30 days (60 - 30)."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=100)
        lines = self.receivable_lines(invoice)
        lines.write({"followup_level_id": self.level_3.id, "followup_date": self.days_ago(29)})
        self.assertFollowup(self.customer, OVERDUE, self.level_3, 100.0, 100.0)
        lines.write({"followup_date": self.days_ago(30)})
        self.assertFollowup(self.customer, IN_NEED, self.level_3, 100.0, 100.0)

    def test_negative_delay_reminds_before_due_date(self):
        """A level at -5 days reminds 5 days before the due date."""
        self.env["account.followup.level"].create({
            "name": "Friendly heads-up",
            "delay": -5,
            "company_id": self.company.id,
            "mail_template_id": self.level_1.mail_template_id.id,
        })
        heads_up = self.env["account.followup.level"].search([("delay", "=", -5), ("company_id", "=", self.company.id)])
        self.create_invoice(amount=100.0, due_days_ago=-6)
        self.assertFollowup(self.customer, NO_ACTION, heads_up, 100.0, 0.0)
        self.customer.invalidate_recordset()
        with freeze_time(self.today + timedelta(days=1)):
            self.assertFollowup(self.customer, IN_NEED, heads_up, 100.0, 0.0)

    def test_partial_payment(self):
        """A partly paid invoice is followed up for what is left."""
        invoice = self.create_invoice(amount=300.0, due_days_ago=20)
        self.pay(invoice, amount=120.0)
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 180.0, 180.0)

    def test_fully_paid(self):
        """A paid invoice is out of the follow-up."""
        invoice = self.create_invoice(amount=300.0, due_days_ago=20)
        self.pay(invoice)
        self.assertFollowup(self.customer, NO_ACTION, self.env["account.followup.level"], 0.0, 0.0)

    def test_credit_note_reduces_totals(self):
        """An open credit note reduces the totals but does not cancel a reminder."""
        self.create_invoice(amount=300.0, due_days_ago=20)
        self.create_invoice(amount=100.0, due_days_ago=3, move_type="out_refund")
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 200.0, 200.0)

    def test_credit_note_covering_everything(self):
        """A customer whose credit notes cover its invoices needs no action."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        self.create_invoice(amount=150.0, due_days_ago=3, move_type="out_refund")
        self.assertFollowup(self.customer, NO_ACTION, self.env["account.followup.level"], -50.0, -50.0)

    def test_excluded_line(self):
        """An excluded invoice counts neither in the status nor in the totals."""
        excluded = self.create_invoice(amount=500.0, due_days_ago=40)
        self.receivable_lines(excluded).blocked = True
        self.create_invoice(amount=100.0, due_days_ago=5)
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 100.0, 100.0)

    def test_draft_invoice_ignored(self):
        """Only posted invoices count."""
        self.create_invoice(amount=100.0, due_days_ago=40, post=False)
        self.assertFollowup(self.customer, NO_ACTION, self.env["account.followup.level"], 0.0, 0.0)

    def test_future_next_reminder_date(self):
        """A Next Reminder date in the future postpones the reminder; today does not."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        self.customer.followup_next_action_date = self.today + timedelta(days=3)
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 100.0, 100.0)
        self.customer.followup_next_action_date = self.today
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 100.0, 100.0)

    def test_multi_currency_totals(self):
        """Totals are in company currency, whatever the currency of the invoices."""
        foreign = self.currency_data["currency"]  # 2 units for 1 USD in 2017 onwards
        invoice = self.create_invoice(amount=200.0, due_days_ago=20, currency=foreign)
        company_amount = invoice.amount_residual_signed
        self.create_invoice(amount=100.0, due_days_ago=-5)
        self.assertFollowup(self.customer, IN_NEED, self.level_1, company_amount + 100.0, company_amount)
        self.assertEqual(company_amount, 100.0)

    def test_second_company(self):
        """Each company sees its own invoices, levels and Next Reminder date."""
        company_2 = self.company_data_2["company"]
        self.create_invoice(amount=100.0, due_days_ago=20)
        self.create_invoice(amount=70.0, due_days_ago=5, company=company_2)
        levels_2 = self.env["account.followup.level"].search([("company_id", "=", company_2.id)])
        self.assertEqual(levels_2.mapped("delay"), [15, 30, 60])
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 100.0, 100.0)
        customer_2 = self.customer.with_company(company_2)
        self.assertFollowup(customer_2, OVERDUE, levels_2[0], 70.0, 70.0)
        customer_2.followup_next_action_date = self.today + timedelta(days=10)
        self.assertFalse(self.customer.followup_next_action_date)

    def test_search_status_and_level(self):
        """The status and the level are searchable, as the report's filters need."""
        late = self.customer
        early = self.customer.copy({"name": "Early Customer"})
        quiet = self.customer.copy({"name": "Quiet Customer"})
        self.create_invoice(partner=late, amount=100.0, due_days_ago=20)
        self.create_invoice(partner=early, amount=100.0, due_days_ago=5)
        Partner = self.env["res.partner"]
        scope = [("id", "in", (late + early + quiet).ids)]
        self.assertEqual(Partner.search(scope + [("followup_status", "=", IN_NEED)]), late)
        self.assertEqual(Partner.search(scope + [("followup_status", "=", OVERDUE)]), early)
        self.assertEqual(Partner.search(scope + [("followup_status", "=", NO_ACTION)]), quiet)
        self.assertEqual(Partner.search(scope + [("followup_status", "in", (IN_NEED, OVERDUE))]), late + early)
        self.assertEqual(Partner.search(scope + [("followup_status", "!=", NO_ACTION)]), late + early)
        self.assertEqual(Partner.search(scope + [("followup_level_id", "=", self.level_1.id)]), late + early)
        self.assertEqual(Partner.search(scope + [("followup_level_id", "=", False)]), quiet)
        self.assertEqual(Partner.search(scope + [("followup_level_id", "!=", self.level_1.id)]), quiet)
        self.assertEqual(Partner.search(scope + [("followup_level_id", "in", self.level_2.ids)]), Partner)
        self.assertEqual(Partner.search(scope + [("followup_level_id", "!=", False)]), late + early)
        # a level's name typed in the search bar
        self.assertEqual(Partner.search(scope + [("followup_level_id", "ilike", "first")]), late + early)
        self.assertEqual(Partner.search(scope + [("followup_level_id", "not ilike", "first")]), quiet)
        self.assertEqual(Partner.search(scope + [("followup_level_id", "ilike", "formal")]), Partner)

    def test_set_level_by_hand(self):
        """Choosing a level in the status bar makes it the next one sent."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=40)
        self.customer.followup_level_id = self.level_3
        self.assertEqual(self.receivable_lines(invoice).followup_level_id, self.level_2)
        # 40 days late does not reach the 60 days of the formal notice yet.
        self.assertFollowup(self.customer, OVERDUE, self.level_3, 100.0, 100.0)
        self.customer.followup_level_id = self.level_2
        self.assertFollowup(self.customer, IN_NEED, self.level_2, 100.0, 100.0)

    def test_set_level_of_other_company(self):
        """A level of another company cannot be chosen."""
        self.create_invoice(amount=100.0, due_days_ago=40)
        other_level = self.env["account.followup.level"].search(
            [("company_id", "=", self.company_data_2["company"].id)], limit=1
        )
        with self.assertRaises(UserError):
            self.customer.followup_level_id = other_level

    def test_archived_level_keeps_lines_on_the_ladder(self):
        """Lines on an archived level go on to the next active level."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=35)
        self.receivable_lines(invoice).write({"followup_level_id": self.level_1.id, "followup_date": self.days_ago(20)})
        self.level_1.active = False
        self.assertFollowup(self.customer, IN_NEED, self.level_2, 100.0, 100.0)

    def test_status_in_one_query(self):
        """Reading the status of many customers costs one aggregation, not one per line."""
        partners = self.customer
        for index in range(5):
            partner = self.customer.copy({"name": f"Customer {index}"})
            for days in (3, 20, 40):
                self.create_invoice(partner=partner, amount=10.0, due_days_ago=days)
            partners |= partner
        followup_fields = ["followup_status", "followup_level_id", "total_due", "total_overdue"]
        partners.mapped("followup_status")  # warm the caches of users, fields and access rights
        partners.invalidate_recordset(followup_fields)
        # One query for the aggregation of all customers (the ladder is cached).
        with self.assertQueryCount(1):
            statuses = partners.mapped("followup_status")
        self.assertEqual(statuses, [NO_ACTION] + [IN_NEED] * 5)
        partners[1].invalidate_recordset(followup_fields)
        with self.assertQueryCount(1):
            self.assertEqual(partners[1].followup_status, IN_NEED)


@tagged("post_install", "-at_install")
class TestFollowupLevel(FollowupTestCommon):
    """Configuring the follow-up levels."""

    def test_default_ladder_for_every_company(self):
        """Every company gets the default levels, companies created later included."""
        self.assertEqual(
            [
                (lv.name, lv.delay, lv.send_email, lv.join_invoices, lv.auto_execute)
                for lv in self.level_1 | self.level_2 | self.level_3
            ],
            [
                ("First reminder", 15, True, False, True),
                ("Second reminder", 30, True, True, True),
                ("Formal notice", 60, True, True, False),
            ],
        )
        self.assertTrue(self.level_2.send_sms)
        self.assertEqual(self.level_2.sms_template_id, self.env.ref("account_payment_followup.sms_template_followup"))
        self.assertTrue(self.level_3.send_letter)
        self.assertEqual(self.level_3.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        new_company = self.env["res.company"].create({"name": "Newcomer Ltd"})
        levels = self.env["account.followup.level"].search([("company_id", "=", new_company.id)])
        self.assertEqual(levels.mapped("delay"), [15, 30, 60])

    def test_ladder_changes_apply_at_once(self):
        """A level's new delay, a new level or an archived one changes the decisions at once."""
        self.create_invoice(amount=100.0, due_days_ago=20)
        self.assertFollowup(self.customer, IN_NEED, self.level_1, 100.0, 100.0)
        self.level_1.delay = 25
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 100.0, 100.0)
        early = self.env["account.followup.level"].create({"name": "Early", "delay": 10, "company_id": self.company.id})
        self.assertFollowup(self.customer, IN_NEED, early, 100.0, 100.0)
        early.active = False
        self.assertFollowup(self.customer, OVERDUE, self.level_1, 100.0, 100.0)

    def test_duplicate_delay(self):
        """Two levels of one company cannot share their number of days."""
        with self.assertRaisesRegex(ValidationError, "both remind 30 days"):
            self.env["account.followup.level"].create({
                "name": "Another second reminder",
                "delay": 30,
                "company_id": self.company.id,
            })

    def test_duplicate_delay_refused_by_the_database(self):
        """Two levels created at once with one delay (two users, neither sees the other's level
        yet): the database refuses the second, archived levels included."""
        Level = self.env["account.followup.level"]
        self.level_1.active = False
        with patch.object(type(Level), "_check_delay_free"), mute_logger("odoo.sql_db"), \
                self.assertRaisesRegex(psycopg2.IntegrityError, "account_followup_level_delay_plan_uniq"):
            Level.create({"name": "Concurrent first reminder", "delay": 15, "company_id": self.company.id})

    def test_same_delay_in_another_company(self):
        """Companies have their own ladders: the same delay is fine in another company."""
        level = self.env["account.followup.level"].create({
            "name": "Early reminder",
            "delay": 5,
            "company_id": self.company.id,
        })
        other = level.copy({"company_id": self.company_data_2["company"].id})
        self.assertEqual(other.delay, 5)

    def test_template_on_wrong_model(self):
        """A follow-up template must be made for contacts."""
        invoice_template = self.env.ref("account.email_template_edi_invoice")
        with self.assertRaisesRegex(ValidationError, "made for account.move records"):
            self.level_1.mail_template_id = invoice_template

    def test_activity_needs_a_type(self):
        """Scheduling an activity needs its type."""
        with self.assertRaises(ValidationError):
            self.level_1.write({"create_activity": True, "activity_type_id": False})

    def test_delete_used_level(self):
        """A level already sent cannot be deleted, only archived; an unused one can."""
        invoice = self.create_invoice(amount=100.0, due_days_ago=20)
        self.receivable_lines(invoice).write({"followup_level_id": self.level_1.id, "followup_date": self.today})
        with self.assertRaisesRegex(UserError, "archive it"):
            self.level_1.unlink()
        self.level_1.active = False
        self.level_3.unlink()
        self.assertFalse(self.level_3.exists())

    def test_due_button_opens_followup_form(self):
        """The Due smart button opens the follow-up form of the commercial partner."""
        contact = self.env["res.partner"].create({"name": "Accounting Dept", "parent_id": self.customer.id})
        action = contact.action_open_followup()
        self.assertEqual(action["res_id"], self.customer.id)
        self.assertEqual(
            action["views"], [(self.env.ref("account_payment_followup.res_partner_view_form_followup").id, "form")]
        )
        self.assertEqual(fields.Date.context_today(self.customer), self.today)


@tagged("post_install", "-at_install")
class TestFollowupReportsList(FollowupTestCommon):
    """The Follow-up Reports list: filters and groupings."""

    def test_group_by_responsible(self):
        """The list groups customers by their (company-dependent) responsible."""
        other = self.customer.copy({"name": "Other Customer"})
        nobody = self.customer.copy({"name": "Unassigned Customer"})
        self.customer.followup_responsible_id = self.env.user
        other.followup_responsible_id = self.env.user
        other.with_company(self.company_data_2["company"]).followup_responsible_id = self.env.ref("base.user_admin")
        groups = self.env["res.partner"].read_group(
            [("id", "in", (self.customer + other + nobody).ids)],
            ["followup_responsible_id"],
            ["followup_responsible_id"],
        )
        self.assertEqual(
            sorted(
                (g["followup_responsible_id"] and g["followup_responsible_id"][0], g["followup_responsible_id_count"])
                for g in groups
            ),
            sorted([(self.env.user.id, 2), (False, 1)]),
        )

    def test_report_action(self):
        """The menu opens the customers with overdue invoices by default."""
        action = self.env["ir.actions.act_window"]._for_xml_id("account_payment_followup.action_view_followup_reports")
        self.assertEqual(action["res_model"], "res.partner")
        self.assertIn("'search_default_filter_overdue': 1", action["context"])
        self.create_invoice(amount=100.0, due_days_ago=3)
        quiet = self.customer.copy({"name": "Quiet"})
        found = self.env["res.partner"].search([
            ("id", "in", (self.customer + quiet).ids),
            ("followup_status", "in", (IN_NEED, OVERDUE)),
        ])
        self.assertEqual(found, self.customer)

    def test_list_page_and_count_decide_statuses_once(self):
        """The list's page and its count (one web client call) decide the statuses once,
        and find exactly what a search and a count find."""
        Partner = self.env["res.partner"]
        customers = Partner
        for index, due_days_ago in enumerate((20, 25, 5, 3, -10)):
            customer = self.customer.copy({"name": f"Page Customer {index}"})
            self.create_invoice(partner=customer, amount=100.0, due_days_ago=due_days_ago)
            customers |= customer
        domain = [("id", "in", customers.ids), ("followup_status", "in", (IN_NEED, OVERDUE))]
        expected = Partner.search(domain, limit=3)
        self.assertEqual(len(expected), 3)
        self.assertEqual(Partner.search_count(domain), 4)

        decided = []
        status_sql = type(Partner)._followup_status_sql

        def spy(partners, statuses):
            decided.append(sorted(statuses))
            return status_sql(partners, statuses)

        with patch.object(type(Partner), "_followup_status_sql", spy):
            # as the web client calls it
            result = call_kw(Partner, "web_search_read", [], {
                "domain": domain,
                "specification": {"display_name": {}, "followup_status": {}},
                "limit": 3,
                "count_limit": 10001,
            })
        self.assertEqual([record["id"] for record in result["records"]], expected.ids)
        self.assertEqual([record["followup_status"] for record in result["records"]], [IN_NEED, IN_NEED, OVERDUE])
        self.assertEqual(result["length"], 4)
        self.assertEqual(decided, [[IN_NEED, OVERDUE]])
        self.env.cr.execute("SELECT relname FROM pg_class WHERE relname LIKE 'followup_status_%%'")
        self.assertFalse(self.env.cr.fetchall(), "the call's temporary tables are dropped")
        # another call decides again (what it finds may have changed)
        self.create_invoice(partner=customers[4], amount=100.0, due_days_ago=40)
        self.assertEqual(Partner.web_search_read(domain, {}, limit=3, count_limit=10001)["length"], 5)
