"""The search language: words, "quoted phrases", AND/OR/NOT, parentheses and prefix*."""
