"""Local stack of real servers holding a deterministic demo world (`vigie devstack`)."""
