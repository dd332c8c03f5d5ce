"""Pure computation: contract model and diff, statistics on small summaries, gates, planning, rendering."""
