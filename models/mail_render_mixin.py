from lxml import html
from markupsafe import Markup

from odoo import api, models
from odoo.tools import safe_eval


class MailRenderMixin(models.AbstractModel):
    _inherit = "mail.render.mixin"

    @api.model
    def _render_template_qweb(self, template_src, model, res_ids, add_context=None, options=None):
        """Render a QWeb body for many records with one compilation (context key
        ``followup_compile_once``, set by the follow-up pipeline for a batch).

        Odoo compiles a raw QWeb body again for each record (a new element each time, which
        the cache of compiled templates cannot know); rendered here as `ir.qweb._render`
        does, from a single compilation, the output is the same.  Any error: Odoo's own
        rendering, and its messages.
        """
        if not self.env.context.get("followup_compile_once") or not template_src or len(res_ids) < 2:
            return super()._render_template_qweb(template_src, model, res_ids, add_context, options)
        variables = self._render_eval_context()
        if add_context:
            variables.update(**add_context)
        is_restricted = (
            not self._unrestricted_rendering
            and not self.env.is_admin()
            and not self.env.user.has_group("mail.group_mail_template_editor")
        )
        qweb = self.env["ir.qweb"].with_context(raise_on_code=is_restricted, **(options or {}))
        results = {}
        try:
            compiled = None
            for record in self.env[model].browse(res_ids):
                values = dict(variables, object=record)
                env_qweb = qweb._prepare_environment(values)
                safe_eval.check_values(values)
                if compiled is None:
                    compiled = env_qweb._compile(html.fragment_fromstring(template_src, create_parent="div"))
                functions, def_name = compiled
                # without the <div> wrapping the nodes, as Odoo does
                results[record.id] = Markup("".join(functions[def_name](env_qweb, values)))[5:-6]
        except Exception:  # noqa: BLE001 Odoo's rendering raises the error users know
            return super()._render_template_qweb(template_src, model, res_ids, add_context, options)
        return results
