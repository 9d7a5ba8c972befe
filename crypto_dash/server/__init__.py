"""STAND-IN from branch dash1, replaced at merge by the auth branch's package."""
