"""The feed: daily, weekly and monthly lists, trending, paper and organization pages."""
