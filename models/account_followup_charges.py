from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.tools import SQL

from . import followup_interest


class AccountFollowupCharges(models.AbstractModel):
    """The late-payment charges of customers: the facts in one SQL query, the decisions in
    ``followup_interest``.  The customer's form, the reminders and the charges invoice ask here."""

    _name = "account.followup.charges"
    _description = "Late-payment Charges"

    @api.model
    def _get_facts_sql(self, partners, company, reminder_date):
        """Return the query of the customers' late lines and what their charges depend on.

        One row per open line owed and due before ``reminder_date``: its amount, the dates and
        amounts of its reconciliations (payments and credit notes lower the base from their
        date), the last day of interest already charged and whether its flat compensation was
        charged (by charges invoices that are not cancelled).
        """
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "max_date", "debit_amount_currency"])
        self.env["account.move.line"].flush_model(
            ["currency_id", "amount_currency", "move_id", "followup_charged_line_id", "followup_charge_type",
             "followup_charged_until"]
        )
        self.env["account.move"].flush_model(["name"])
        self.env["res.partner"].flush_model(["is_company"])
        open_lines = self.env["res.partner"]._followup_open_lines_sql(company, partners.ids)
        return SQL(
            """
            WITH owed AS (
                SELECT line.id, line.partner_id, line.move_id, line.currency_id, line.date_maturity,
                       line.amount_currency
                  %(open_lines)s
                   AND line.amount_residual > 0
                   AND line.date_maturity < %(reminder_date)s
                   -- no charges on a charges invoice (no interest on interest)
                   AND NOT EXISTS (
                        SELECT 1 FROM account_move_line charged
                         WHERE charged.move_id = line.move_id AND charged.followup_charge_type IS NOT NULL
                   )
            )
            SELECT owed.id, owed.partner_id, partner.is_company, owed.move_id, move.name,
                   owed.currency_id, owed.date_maturity, owed.amount_currency,
                   paid.dates, paid.amounts, charged.until, COALESCE(charged.compensation, FALSE)
              FROM owed
              JOIN account_move move ON move.id = owed.move_id
              JOIN res_partner partner ON partner.id = owed.partner_id
              LEFT JOIN LATERAL (
                    SELECT ARRAY_AGG(part.max_date ORDER BY part.max_date, part.id) AS dates,
                           ARRAY_AGG(part.debit_amount_currency ORDER BY part.max_date, part.id) AS amounts
                      FROM account_partial_reconcile part
                     WHERE part.debit_move_id = owed.id
                   ) paid ON TRUE
              LEFT JOIN LATERAL (
                    SELECT MAX(charge.followup_charged_until)
                               FILTER (WHERE charge.followup_charge_type = 'interest') AS until,
                           BOOL_OR(charge.followup_charge_type = 'compensation') AS compensation
                      FROM account_move_line charge
                     WHERE charge.followup_charged_line_id = owed.id
                       AND charge.parent_state <> 'cancel'
                   ) charged ON TRUE
             ORDER BY owed.partner_id, owed.date_maturity, owed.id
            """,
            open_lines=open_lines,
            reminder_date=reminder_date,
        )

    @api.model
    def _get_late_charges(self, partners, company, reminder_date, level=None):
        """Return the late-payment charges of customers (commercial partners) on a date.

        One query for the lines of all the customers, one per reference for the rates.
        Return ``{partner id: charges}`` for the customers with late invoices, where
        ``charges`` is a dict:

        - ``invoices``: one dict per late line (``line_id``, ``move_id``, ``move_name``,
          ``currency``, ``due_date``, ``days_late``, ``interest`` (the ``Interest`` of
          ``followup_interest``), ``interest_amount`` (in the invoice's currency),
          ``compensation`` (in the company's currency));
        - ``interest_company``: the interest of all the lines in the company's currency;
        - ``compensation``: the flat compensations, ``fee``: the fee of ``level`` (company currency);
        - ``missing``: the half-years (first days) without a reference rate;
        - ``is_consumer``: whether the customer is an individual.
        """
        if not partners:
            return {}
        self.env.cr.execute(self._get_facts_sql(partners, company, reminder_date))
        rows = self.env.cr.fetchall()
        if not rows:
            return {}
        policy = company._followup_policy()
        rates = {}
        if policy.policy == followup_interest.POLICY_STATUTORY and policy.reference:
            first_late_day = min(row[6] for row in rows) + timedelta(days=1)
            rates = self.env["account.followup.reference.rate"]._followup_rates(
                policy.reference, first_late_day, reminder_date
            )
        currencies = self.env["res.currency"].browse({row[5] for row in rows})
        company_currency = company.currency_id
        fee = level.fee_amount if level and level.late_charges != "none" else 0.0
        result = {}
        for (line_id, partner_id, is_company, move_id, move_name, currency_id, due_date, amount,
             pay_dates, pay_amounts, charged_until, compensation_charged) in rows:
            currency = currencies.browse(currency_id)
            payments = list(zip(pay_dates or [], pay_amounts or [], strict=True))
            charges = followup_interest.invoice_charges(
                policy, not is_company, amount, due_date, reminder_date, rates, payments,
                charged_until=charged_until, compensation_charged=compensation_charged,
                digits=currency.decimal_places,
            )
            partner = result.setdefault(partner_id, {
                "invoices": [], "interest_company": 0.0, "compensation": 0.0, "fee": fee,
                "missing": set(), "is_consumer": not is_company,
            })
            interest_amount = charges.interest.amount  # rounded once, to the currency's decimals
            partner["invoices"].append({
                "line_id": line_id,
                "move_id": move_id,
                "move_name": move_name,
                "currency": currency,
                "due_date": due_date,
                "days_late": charges.days_late,
                "interest": charges.interest,
                "interest_amount": interest_amount,
                "compensation": charges.compensation,
            })
            if interest_amount:
                partner["interest_company"] += currency._convert(
                    interest_amount, company_currency, company, reminder_date
                )
            partner["compensation"] += charges.compensation
            partner["missing"].update(charges.missing)
        for partner in result.values():
            partner["interest_company"] = company_currency.round(partner["interest_company"])
            partner["missing"] = sorted(partner["missing"])
        return result

    # ------------------------------------------------------------
    # CHARGES INVOICE
    # ------------------------------------------------------------

    @api.model
    def _create_charges_invoice(self, partner, level, reminder_date=None):
        """Create the draft "Late-payment charges" invoice of a reminder (``invoice`` mode).

        One line per late invoice for its interest up to the reminder date, one per flat
        compensation, one for the level's fee; products and taxes from the company's
        settings. Its lines say what they charge, so the next charge starts where this one
        stops; cancelling it frees what it charged. Posted when the company says so.

        :return: the invoice, or an empty recordset when there is nothing to charge
        """
        company = self.env.company
        customer = partner.commercial_partner_id
        reminder_date = reminder_date or fields.Date.context_today(self)
        charges = self._get_late_charges(customer, company, reminder_date, level).get(customer.id)
        line_values = self._prepare_charges_invoice_lines(charges, company, reminder_date) if charges else []
        if not charges and level.fee_amount:
            line_values = [self._prepare_charges_fee_line(level.fee_amount, company)]
        if not line_values:
            return self.env["account.move"]
        invoice = self.env["account.move"].with_company(company).create({
            "move_type": "out_invoice",
            "partner_id": customer.id,
            "company_id": company.id,
            "currency_id": company.currency_id.id,
            "invoice_date": reminder_date,
            "invoice_origin": _("Late-payment charges"),
            "ref": _("Late-payment charges"),
            "invoice_line_ids": [Command.create(values) for values in line_values],
        })
        if company.followup_post_charges:
            invoice.action_post()
        return invoice

    @api.model
    def _prepare_charges_invoice_lines(self, charges, company, reminder_date):
        """Return the values of the lines of a charges invoice (see `_create_charges_invoice`)."""
        lines = []
        currency = company.currency_id
        for invoice in charges["invoices"]:
            interest = invoice["interest"]
            if invoice["interest_amount"] and not interest.missing:
                amount = invoice["currency"]._convert(invoice["interest_amount"], currency, company, reminder_date)
                rates = ", ".join(f"{rate:.2f} %" for rate, __, __ in interest.rates())
                lines.append(self._prepare_charges_line(
                    company.followup_interest_product_id,
                    _(
                        "Late-payment interest on %(invoice)s from %(first)s to %(last)s (%(days)s days at %(rates)s)",
                        invoice=invoice["move_name"],
                        first=fields.Date.to_string(interest.first),
                        last=fields.Date.to_string(interest.last),
                        days=interest.days,
                        rates=rates,
                    ),
                    amount,
                    {"followup_charge_type": "interest", "followup_charged_line_id": invoice["line_id"],
                     "followup_charged_until": interest.last},
                ))
            if invoice["compensation"]:
                lines.append(self._prepare_charges_line(
                    company.followup_compensation_product_id,
                    _("Flat compensation for recovery costs, %(invoice)s", invoice=invoice["move_name"]),
                    invoice["compensation"],
                    {"followup_charge_type": "compensation", "followup_charged_line_id": invoice["line_id"]},
                ))
        if charges["fee"]:
            lines.append(self._prepare_charges_fee_line(charges["fee"], company))
        return lines

    @api.model
    def _prepare_charges_fee_line(self, amount, company):
        return self._prepare_charges_line(
            company.followup_fee_product_id, _("Reminder fee"), amount, {"followup_charge_type": "fee"}
        )

    @api.model
    def _prepare_charges_line(self, product, name, amount, charge_values):
        """Return the values of one line of a charges invoice: its product's taxes, or none."""
        values = {"name": name, "quantity": 1.0, "price_unit": amount, **charge_values}
        if product:
            values.update(product_id=product.id, tax_ids=[Command.set(product.taxes_id.ids)])
        else:
            values["tax_ids"] = [Command.clear()]
        return values
