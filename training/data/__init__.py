"""Data preparation, one LightningDataModule per funnel stage."""
