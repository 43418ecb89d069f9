import uuid

from odoo import models
from odoo.tools import SQL


class AccountMove(models.Model):
    _inherit = "account.move"

    def _followup_ensure_access_tokens(self):
        """Give the invoices without one the portal token of their payment link, at once.

        `get_portal_url` would write each token through `account.move.write`, which
        synchronises every invoice's lines again: a technical column with nothing
        depending on it is set with one UPDATE instead.
        """
        missing = self.filtered(lambda move: not move.access_token)
        if not missing:
            return
        self.env.cr.execute(
            SQL(
                """
                UPDATE account_move move SET access_token = token.value
                  FROM unnest(%s::int[], %s::varchar[]) AS token(move_id, value)
                 WHERE move.id = token.move_id AND move.access_token IS NULL
                """,
                missing.ids,
                [str(uuid.uuid4()) for __ in missing],
            )
        )
        missing.invalidate_recordset(["access_token"])
        missing.fetch(["access_token"])
