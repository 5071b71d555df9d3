"""Cohort analytics: the statistics core and the cohort queries, pages and API built on it."""
