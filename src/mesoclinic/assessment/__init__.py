"""Hair-loss assessment: diagnosis and staging, candidacy and contraindication rules."""
