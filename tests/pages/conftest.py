from tests.pages.world import expense, expense_task, people  # noqa: F401  (shared fixtures)
