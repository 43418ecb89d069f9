from . import test_followup_status
from . import test_followup_report
from . import test_reliability
from . import test_followup_send
from . import test_followup_cron
from . import test_followup_scale
from . import test_followup_i18n
from . import test_followup_charges
