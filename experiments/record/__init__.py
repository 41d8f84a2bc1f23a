"""The SMA record: data, escalation replay, scores, backtest and calibration."""
