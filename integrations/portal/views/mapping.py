from .placeholder import planned

accounts = planned("Accounts and contacts")
categories = planned("Categories")
