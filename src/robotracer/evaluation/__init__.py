"""Judging outcomes: did the object end where the instruction asked?"""
