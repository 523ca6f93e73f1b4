"""HTML views of the crm app: the agent console (``console``) and the customers' public survey pages (``surveys``)."""
