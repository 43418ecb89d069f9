from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .common import FollowupTestCommon

AGEING = ["ageing_not_due", "ageing_1_30", "ageing_31_60", "ageing_61_90", "ageing_over_90"]


@tagged("post_install", "-at_install")
class TestFollowupAgeing(FollowupTestCommon):
    """The ageing columns of the Follow-up Reports and the Aged Receivables pivot."""

    @classmethod
    def setUpClass(cls, chart_template_ref=None):
        super().setUpClass(chart_template_ref=chart_template_ref)
        # One power of two per edge: every bucket's sum tells which invoices are in it.
        cls.edges = {}
        for power, days in enumerate((-10, 0, 1, 30, 31, 60, 61, 90, 91, 400)):
            cls.edges[days] = cls.create_invoice(amount=float(2 ** power), due_days_ago=days)
        cls.other = cls.env["res.partner"].create({"name": "Other Customer"})
        cls.create_invoice(partner=cls.other, amount=5000.0, due_days_ago=45)
        cls.create_invoice(partner=cls.other, amount=700.0, due_days_ago=-3)

    def ageing(self, partner):
        partner.invalidate_recordset()
        return [partner[fname] for fname in AGEING]

    def test_buckets_on_their_edges(self):
        """Due today or later: not due; 1 and 30 days ago: 1-30; 31 and 60: 31-60; 61 and 90:
        61-90; 91 days ago and more: over 90. Together they are the total due."""
        self.assertEqual(self.ageing(self.customer), [1.0 + 2.0, 4.0 + 8.0, 16.0 + 32.0, 64.0 + 128.0, 256.0 + 512.0])
        self.assertEqual(self.customer.total_due, 1023.0)
        self.assertEqual(self.ageing(self.other), [700.0, 0.0, 5000.0, 0.0, 0.0])

    def test_same_lines_as_the_totals(self):
        """Partly paid invoices count by their residual, credit notes by their date, excluded
        lines not at all (as in the totals), and amounts are in company currency."""
        self.pay(self.edges[1], amount=1.5)
        self.receivable_lines(self.edges[91]).blocked = True
        self.create_invoice(amount=100.0, due_days_ago=35, move_type="out_refund")
        # 2 units for 1 of the company's currency: 300.00
        self.create_invoice(amount=600.0, due_days_ago=75, currency=self.currency_data["currency"])
        self.assertEqual(
            self.ageing(self.customer),
            [3.0, 2.5 + 8.0, 16.0 + 32.0 - 100.0, 64.0 + 128.0 + 300.0, 512.0],
        )
        self.assertEqual(self.customer.total_due, sum(self.ageing(self.customer)))

    def test_a_customer_without_open_lines(self):
        """A customer without unpaid invoices has zero in every bucket."""
        nobody = self.env["res.partner"].create({"name": "Nobody"})
        self.assertEqual(self.ageing(nobody), [0.0] * 5)

    def test_no_query_more_than_the_totals(self):
        """The ageing comes with the statuses and totals, in the same query: a page with the
        five columns costs what it costs without them."""
        partners = self.customer | self.other
        spec = {fname: {} for fname in ("display_name", "followup_status", "total_due", "total_overdue")}
        domain = [("id", "in", partners.ids)]
        Partner = self.env["res.partner"]
        Partner.web_search_read(domain, spec)  # warm the caches of fields and access rights
        without = self.count_queries(lambda: Partner.web_search_read(domain, spec))
        spec.update({fname: {} for fname in AGEING})
        with_ageing = self.count_queries(lambda: Partner.web_search_read(domain, spec))
        self.assertEqual(with_ageing, without)

    def test_sums_of_groups(self):
        """A grouped list sums the buckets per group, as its page would (the fields asked by
        name, as the web client asks)."""
        self.other.followup_reminder_type = "manual"
        groups = self.env["res.partner"].web_read_group(
            [("id", "in", (self.customer | self.other).ids)],
            ["display_name", "total_due", *AGEING],
            ["followup_reminder_type"],
            orderby="followup_reminder_type",
        )["groups"]
        self.assertEqual(
            [(group["followup_reminder_type"], [group[fname] for fname in AGEING]) for group in groups],
            [
                ("automatic", [3.0, 12.0, 48.0, 192.0, 768.0]),
                ("manual", [700.0, 0.0, 5000.0, 0.0, 0.0]),
            ],
        )

    def test_aged_receivables_pivot(self):
        """The pivot: customers with unpaid invoices by row, the buckets as measures; other
        customers and contacts are not in it."""
        self.env["res.partner"].create({"name": "Contact", "parent_id": self.customer.id})
        self.env["res.partner"].create({"name": "No invoice"})
        action = self.env.ref("account_payment_followup.res_partner_action_ageing")
        candidates = self.customer | self.other | self.env["res.partner"].search(
            [("name", "in", ("Contact", "No invoice"))]
        )
        domain = [*safe_eval(action.domain), ("id", "in", candidates.ids)]
        groups = self.env["res.partner"].read_group(
            domain, [f"{fname}:sum" for fname in AGEING], ["commercial_partner_id"], lazy=False
        )
        self.assertEqual(
            sorted((group["commercial_partner_id"][0], [group[fname] for fname in AGEING]) for group in groups),
            [
                (self.customer.id, [3.0, 12.0, 48.0, 192.0, 768.0]),
                (self.other.id, [700.0, 0.0, 5000.0, 0.0, 0.0]),
            ],
        )
        totals = self.env["res.partner"].read_group(domain, [f"{fname}:sum" for fname in AGEING], [])
        self.assertEqual([totals[0][fname] for fname in AGEING], [703.0, 12.0, 5048.0, 192.0, 768.0])
