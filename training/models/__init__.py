"""Lightning modules, one sub-package per funnel stage."""
