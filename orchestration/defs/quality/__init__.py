"""Data quality: Great Expectations suites, their thresholds, and the quarantine for failing rows."""
