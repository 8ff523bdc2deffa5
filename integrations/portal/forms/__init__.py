"""The customer pages' forms, one module per area (onboarding, mapping, transactions, team):
every input a page takes is validated by one of these before a service sees it."""
