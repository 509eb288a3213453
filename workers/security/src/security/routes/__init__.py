"""HTTP routes of the security Worker: thin adapters over the modules beside them."""
