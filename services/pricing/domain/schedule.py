"""Image schedules live in shared/schedule.py (checkout and tiling need the same dates); re-exported here."""
from shared.schedule import ChargePeriod, Month, Schedule, charge_periods  # noqa: F401
