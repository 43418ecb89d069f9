from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models

# The columns of the ageing line: (key, first day late, last day late); None: no bound.
AGEING_BUCKETS = (
    ("not_due", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("over_90", 91, None),
)
DEFAULT_PERIOD_DAYS = 90


class ReportCustomerStatement(models.AbstractModel):
    """The Customer Statement: the account of a customer over a period, by currency.

    The opening balance, every invoice, credit note and payment of the period with the
    running balance, the closing balance, and the ageing of what was open at the end
    of the period. Amounts are in the currency of the documents.
    """

    _name = "report.account_payment_followup.report_customer_statement"
    _description = "Customer Statement"

    @api.model
    def _get_report_values(self, docids, data=None):
        """Return the values of the statements, one per customer, in the current company.

        :param dict data: ``date_from`` and ``date_to`` of the period (default: the last
            90 days until today)
        """
        date_from, date_to = self._get_statement_period(data)
        partners = self.env["res.partner"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": partners,
            "company": self.env.company,
            "statements": {
                partner.id: self._get_statement_values(partner, date_from, date_to) for partner in partners
            },
        }

    @api.model
    def _get_statement_period(self, data=None):
        """Return ``(date_from, date_to)``: the period asked, else the last 90 days until today.

        The period is asked in the report's data, or in the context (the statement the
        email template attaches: ``customer_statement_date_from``, ``..._to``).
        """
        data = data or {}
        context = self.env.context
        date_to = fields.Date.to_date(data.get("date_to") or context.get("customer_statement_date_to"))
        date_to = date_to or fields.Date.context_today(self)
        date_from = fields.Date.to_date(data.get("date_from") or context.get("customer_statement_date_from"))
        date_from = date_from or date_to - timedelta(days=DEFAULT_PERIOD_DAYS)
        return date_from, date_to

    @api.model
    def _get_statement_lines_domain(self, customer, date_to):
        """Return the domain of the customer's receivable lines until ``date_to``."""
        return [
            ("company_id", "=", self.env.company.id),
            ("partner_id", "=", customer.id),
            ("account_id.account_type", "=", "asset_receivable"),
            ("account_id.non_trade", "=", False),
            ("parent_state", "=", "posted"),
            ("date", "<=", date_to),
        ]

    @api.model
    def _get_statement_values(self, partner, date_from, date_to):
        """Return what the statement of one customer shows.

        :return: ``{"customer", "lang", "ageing_labels", "date_from", "date_to", "groups"}``
            (``ageing_labels``: the titles of the ageing columns, in the customer's
            language); a group per
            currency (sorted by name): ``{"currency", "opening", "rows", "closing",
            "ageing": {bucket: amount}}``; a row per document line of the period, by date:
            ``{"line", "date", "name", "kind", "due_date", "debit", "credit", "balance"}``
        """
        customer = partner.commercial_partner_id
        lines = self.env["account.move.line"].search(
            self._get_statement_lines_domain(customer, date_to), order="date, move_name, id"
        )
        lines.fetch(["date", "date_maturity", "currency_id", "amount_currency", "move_id", "payment_id"])
        by_currency = defaultdict(lambda: self.env["account.move.line"])
        for line in lines:
            by_currency[line.currency_id] |= line
        residuals = self._get_statement_residuals(lines, date_to)
        groups = []
        for currency in sorted(by_currency, key=lambda currency: currency.name):
            currency_lines = by_currency[currency]
            opening = currency.round(
                sum(currency_lines.filtered(lambda line: line.date < date_from).mapped("amount_currency"))
            )
            balance = opening
            rows = []
            for line in currency_lines.filtered(lambda line: line.date >= date_from):
                if currency.is_zero(line.amount_currency):
                    continue  # exchange differences: nothing in the currency of the documents
                balance = currency.round(balance + line.amount_currency)
                rows.append(self._prepare_statement_row(line, balance))
            ageing = dict.fromkeys((key for key, _first, _last in AGEING_BUCKETS), 0.0)
            for line in currency_lines:
                bucket = self._get_ageing_bucket((date_to - (line.date_maturity or line.date)).days)
                ageing[bucket] += residuals[line.id]
            ageing = {key: currency.round(amount) for key, amount in ageing.items()}
            if not rows and currency.is_zero(opening) and currency.is_zero(balance):
                continue
            groups.append({
                "currency": currency,
                "opening": opening,
                "rows": rows,
                "closing": balance,
                "ageing": ageing,
            })
        lang = customer.lang or self.env.lang or "en_US"
        return {
            "customer": customer,
            "lang": lang,
            "ageing_labels": self.with_context(lang=lang)._get_ageing_labels(),
            "date_from": date_from,
            "date_to": date_to,
            "groups": groups,
        }

    @api.model
    def _prepare_statement_row(self, line, balance):
        """Return the values of one line of the statement."""
        amount = line.amount_currency
        return {
            "line": line,
            "date": line.date,
            "name": line.move_id.name,
            "kind": self._get_statement_line_kind(line),
            "due_date": line.date_maturity if line.move_id.is_invoice(include_receipts=True) else False,
            "debit": amount if amount > 0 else 0.0,
            "credit": -amount if amount < 0 else 0.0,
            "balance": balance,
        }

    @api.model
    def _get_statement_line_kind(self, line):
        """Return the label of the kind of document of a line: invoice, credit note, payment..."""
        move = line.move_id
        if move.move_type in ("out_invoice", "out_receipt"):
            return _("Invoice")
        if move.move_type == "out_refund":
            return _("Credit Note")
        if line.payment_id or move.payment_id or move.statement_line_id:
            return _("Payment")
        return _("Journal Entry")

    @api.model
    def _get_ageing_bucket(self, days_late):
        """Return the key of the ageing column of an amount ``days_late`` days past its due date."""
        for key, first, last in AGEING_BUCKETS:
            if (first is None or days_late >= first) and (last is None or days_late <= last):
                return key
        return AGEING_BUCKETS[-1][0]

    @api.model
    def _get_statement_residuals(self, lines, date_to):
        """Return ``{line id: amount left at date_to}``, in the currency of each line.

        The reconciliations of a later date are undone: the ageing shows what was open at
        the end of the period, not what is open today.
        """
        residuals = {line.id: line.amount_currency for line in lines}
        if not lines:
            return residuals
        partials = self.env["account.partial.reconcile"].search([
            ("max_date", "<=", date_to),
            "|", ("debit_move_id", "in", lines.ids), ("credit_move_id", "in", lines.ids),
        ])
        for partial in partials:
            if partial.debit_move_id.id in residuals:
                residuals[partial.debit_move_id.id] -= partial.debit_amount_currency
            if partial.credit_move_id.id in residuals:
                residuals[partial.credit_move_id.id] += partial.credit_amount_currency
        return residuals

    @api.model
    def _get_ageing_labels(self):
        """Return the titles of the ageing columns, in the order of ``AGEING_BUCKETS``."""
        return {
            "not_due": _("Not Due"),
            "1_30": _("1-30 Days"),
            "31_60": _("31-60 Days"),
            "61_90": _("61-90 Days"),
            "over_90": _("Over 90 Days"),
        }
