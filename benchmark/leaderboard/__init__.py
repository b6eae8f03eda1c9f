"""The leaderboard: submission validation, storage and ranking, views, spot checks."""
