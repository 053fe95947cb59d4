//! Host tests of what each route costs and what happens when a budget runs out: the budget model, spent budgets, storage calls per route, anonymous traffic, rate limits.

mod anonymous;
mod budget;
mod budgets_spent;
mod limits;
mod storage_calls;
