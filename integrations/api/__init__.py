"""The partner API: how the card company's systems feed the portal and read back each
transaction's fate. A delivery app: it validates, authenticates and calls the domain services
(integrations/*/services, ledger/catalog.py, transactions/intake.py) the portal calls too."""
