"""Technology-Enabled Care: homes watched for the wellbeing of the people living there.

``CareMonitor`` learns each home's routine (per day type and quarter-hour), keeps
daily indicators and raises explained wellbeing alerts as conditions; the domain
registers it with the platform.
"""

from vigil.care.domain import domain
from vigil.care.monitor import CONDITION_KINDS, CareMonitor
from vigil.care.routine import Routine
from vigil.care.state import CareState, DayRecord

__all__ = ["CONDITION_KINDS", "CareMonitor", "CareState", "DayRecord", "Routine", "domain"]
