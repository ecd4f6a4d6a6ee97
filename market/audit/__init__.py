"""The audit log: who changed which money, confirmation, review and account fact, when, from where, before and after."""
