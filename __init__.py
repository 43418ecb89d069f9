from . import models


def _post_init_hook(env):
    """Give every existing company its default follow-up levels."""
    env["res.company"].search([])._followup_create_default_levels()
