"""Policy information and openness of government affairs (政务公开): /familyplanning/policy/."""
