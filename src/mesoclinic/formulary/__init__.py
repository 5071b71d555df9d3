"""Formulary: ingredients, products, cocktail recipes, product lots and stock."""
