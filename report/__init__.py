from . import followup_report
from . import customer_statement
