from . import followup_rules
from . import followup_interest
from . import account_followup_level
from . import account_followup_reference_rate
from . import account_move
from . import account_move_line
from . import res_company
from . import res_partner
