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
