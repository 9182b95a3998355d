"""Delivery to the LMS: the ledger's data (`ledger`), Standard Webhooks (`webhooks`), the LMS client
(`lms`) and the sync run (`sync`)."""
