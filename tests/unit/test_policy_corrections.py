"""The engine's judgement of a corrected amount after a reversal: capped after the usage that stands, charged to every
key, a one-time cap counted once per claim."""
from market.policy.engine import judge_correction
from market.policy.rules import Cap, CapScope
from market.policy.state import CapKey, CapUsage, PolicyState

ACHIEVEMENT = (Cap(CapScope.ACHIEVEMENT, 200), CapKey("R2", CapScope.ACHIEVEMENT, "ach-1"))
YEAR = (Cap(CapScope.RECIPIENT_CALENDAR_YEAR, 1000), CapKey("R2", CapScope.RECIPIENT_CALENDAR_YEAR, "org-1", 2025))
ONCE = (Cap(CapScope.ONE_TIME_PER_STARTUP), CapKey("R4", CapScope.ONE_TIME_PER_STARTUP, "org-2"))


def test_the_tightest_cap_binds_and_every_key_is_charged():
    state = PolicyState(cap_usage={ACHIEVEMENT[1]: CapUsage(150, 2), YEAR[1]: CapUsage(900, 3)})
    granted, capped_by, after = judge_correction([ACHIEVEMENT, YEAR], 80, state, new_grant=True)
    assert (granted, capped_by) == (50, "achievement")
    assert after.usage(ACHIEVEMENT[1]) == CapUsage(200, 3) and after.usage(YEAR[1]) == CapUsage(950, 4)
    assert state.usage(ACHIEVEMENT[1]) == CapUsage(150, 2)


def test_nothing_left_grants_nothing_and_changes_nothing():
    state = PolicyState(cap_usage={ACHIEVEMENT[1]: CapUsage(200, 1)})
    assert judge_correction([ACHIEVEMENT], 10, state, new_grant=True) == (0, "achievement", state)


def test_a_one_time_cap_admits_the_correction_only_when_its_grant_is_free_or_its_own():
    used = PolicyState(cap_usage={ONCE[1]: CapUsage(30, 1)})
    assert judge_correction([ONCE], 10, used, new_grant=True)[:2] == (0, "one_time_per_startup")
    granted, _, after = judge_correction([ONCE], 10, used, new_grant=False)
    assert granted == 10 and after.usage(ONCE[1]) == CapUsage(40, 1)
    granted, _, after = judge_correction([ONCE], 10, PolicyState(), new_grant=True)
    assert granted == 10 and after.usage(ONCE[1]) == CapUsage(10, 1)
