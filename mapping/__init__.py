"""The V2MOM plan, its mapping rules, and the pure resolver that tags work items."""
