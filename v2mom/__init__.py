"""v2mom-sync: how much of the real work in Jira, Asana and Linear goes to each V2MOM value."""

__version__ = "0.1.0"
