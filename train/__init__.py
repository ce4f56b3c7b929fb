"""PPO and the surrogate-in-the-loop trainer: not built yet."""
