"""Things that happen on time: the job registry, its schedules, the tick that fans due jobs out, and the jobs."""
